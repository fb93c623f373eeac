#!/usr/bin/env python3
"""Check Trellis NDJSON lines against the JSON Schemas in schemas/ (draft 2020-12).

    python3 tools/check_schemas.py --meta
        Check every schema file against the 2020-12 metaschema (and that every $ref resolves).

    python3 tools/check_schemas.py [--recorded] FILE.ndjson ...      ('-' reads stdin)
        One verdict per input line, tab-separated, so that a test can compare another
        decoder's verdicts line by line:
            N<TAB>ok
            N<TAB>error<TAB><path>: <message>
        N is the 1-based line number; <path> is a JSONPath ($, $.data.outcomes[0].area).
        Lines are input envelopes (schemas/envelope.schema.json), or with --recorded lines
        as the ledger exports them (schemas/recorded-event.schema.json). A line that is not
        one JSON value (including an empty line, duplicate keys, lone surrogates) is an
        error at path $. Exit status 0 if every line is ok, 1 otherwise.

    python3 tools/check_schemas.py --report NAME FILE.json ...
        Check whole report documents (`trellis report NAME --format json`) against
        schemas/reports/NAME.schema.json: "FILE<TAB>ok" or "FILE<TAB>error<TAB><path>: <message>"
        per error. Exit status 0 if every file is valid, 1 otherwise.

    python3 tools/check_schemas.py
        Check the example corpus Tests/TrellisLedgerTests/Examples/*.{valid,invalid}.ndjson:
        exit 1 if any .valid line is rejected, any .invalid line is accepted, or the corpus
        breaks its own conventions (see check_corpus).

Needs Python 3.9+ and jsonschema 4.18+ (which brings `referencing`); `date-time` is
asserted through rfc3339-validator when installed, else through the fallback below.
"""
from __future__ import annotations

import json
import re
import sys
from datetime import date
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
EXAMPLES = ROOT / "Tests" / "TrellisLedgerTests" / "Examples"
BASE = "https://trellis.example/schemas/"
ENVELOPE_ID = BASE + "envelope.schema.json"
RECORDED_ID = BASE + "recorded-event.schema.json"

# --------------------------------------------------------------------------- schemas


def load_schemas() -> dict[str, dict]:
    """Every *.json under schemas/, by $id; the $id must match the file's place."""
    schemas: dict[str, dict] = {}
    for path in sorted(SCHEMAS.rglob("*.json")):
        with path.open(encoding="utf-8") as f:
            schema = json.load(f)
        sid = schema.get("$id")
        expected = BASE + path.relative_to(SCHEMAS).as_posix()
        if sid != expected:
            raise SystemExit(f"{path}: $id is {sid!r}, expected {expected!r}")
        schemas[sid] = schema
    if ENVELOPE_ID not in schemas or RECORDED_ID not in schemas:
        raise SystemExit(f"{SCHEMAS}: envelope or recorded-event schema missing")
    return schemas


def make_registry(schemas: dict[str, dict]) -> Registry:
    return Registry().with_resources(
        (sid, Resource.from_contents(s, default_specification=DRAFT202012)) for sid, s in schemas.items()
    )


_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])", re.ASCII | re.IGNORECASE)


def _fallback_date_time(instance: object) -> bool:
    """RFC 3339 date-time with a real calendar date (used only without rfc3339-validator)."""
    if not isinstance(instance, str) or not _DATE_TIME.fullmatch(instance):
        return not isinstance(instance, str)
    try:
        return date.fromisoformat(instance[:10]) is not None
    except ValueError:
        return False


def format_checker() -> FormatChecker:
    """Draft 2020-12's checker, with `date` and `date-time` proven to assert."""
    checker = Draft202012Validator.FORMAT_CHECKER
    probes = {"date": ("2024-02-29", "2026-02-30"), "date-time": ("2024-02-29T23:59:59.5Z", "2026-02-30T00:00:00Z")}
    if checker.conforms(probes["date-time"][1], "date-time"):
        # jsonschema only asserts date-time when rfc3339-validator is installed.
        print("check_schemas: rfc3339-validator missing; using the built-in date-time check", file=sys.stderr)
        checker = FormatChecker()
        checker.checkers.update(Draft202012Validator.FORMAT_CHECKER.checkers)
        checker.checks("date-time")(_fallback_date_time)
    for fmt, (good, bad) in probes.items():
        if not checker.conforms(good, fmt) or checker.conforms(bad, fmt):
            raise SystemExit(f"check_schemas: format {fmt!r} is not asserted; cannot check dates")
    return checker


def validators(schemas: dict[str, dict]) -> tuple[Draft202012Validator, Draft202012Validator]:
    registry = make_registry(schemas)
    fc = format_checker()
    return (Draft202012Validator(schemas[ENVELOPE_ID], registry=registry, format_checker=fc),
            Draft202012Validator(schemas[RECORDED_ID], registry=registry, format_checker=fc))


def check_meta(schemas: dict[str, dict]) -> int:
    registry = make_registry(schemas)
    bad = 0
    for sid, schema in schemas.items():
        name = sid[len(BASE):]
        if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            print(f"{name}: $schema is not draft 2020-12")
            bad += 1
        errors = sorted(Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema), key=str)
        for e in errors:
            print(f"{name}: {e.json_path}: {short(e.message)}")
        bad += len(errors)
        # Every $ref must resolve, and every pattern must compile.
        for ref, where in walk_refs(schema):
            try:
                registry.resolver(base_uri=sid).lookup(ref)
            except Exception as exc:  # noqa: BLE001 - report any resolution failure
                print(f"{name}: {where}: $ref {ref!r} does not resolve: {short(str(exc), 120)}")
                bad += 1
        for pattern, where in walk_key(schema, "pattern"):
            try:
                re.compile(pattern)
            except re.error as exc:
                print(f"{name}: {where}: pattern does not compile: {exc}")
                bad += 1
    print(f"{len(schemas)} schemas: " + ("ok" if bad == 0 else f"{bad} problem(s)"))
    return 0 if bad == 0 else 1


def walk_key(node, key, where="$"):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield v, where
            elif k not in ("enum", "const", "examples", "default"):
                yield from walk_key(v, key, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk_key(v, key, f"{where}[{i}]")


def walk_refs(node):
    yield from walk_key(node, "$ref")

# --------------------------------------------------------------------------- lines


class LineError(Exception):
    pass


def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise LineError(f"duplicate key {k!r}")
        obj[k] = v
    return obj


def _reject_constant(name):
    raise LineError(f"{name} is not JSON")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_strings(value):
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise LineError("lone surrogate in a string")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_strings(k)
            _check_strings(v)
    elif isinstance(value, list):
        for v in value:
            _check_strings(v)


def parse_line(raw: bytes):
    """One NDJSON line as strict RFC 8259 JSON (what the ledger's parser accepts)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LineError(f"not UTF-8: {exc.reason} at byte {exc.start + 1}") from None
    if not text.strip(" \t\r\n"):
        raise LineError("empty line (expected one JSON object)")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise LineError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    _check_strings(value)
    return value


def short(message: str, limit: int = 240) -> str:
    message = message.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    return message if len(message) <= limit else message[: limit - 1] + "…"


def verdict(validator: Draft202012Validator, raw: bytes) -> str | None:
    """None if the line is valid, else '<path>: <message>'."""
    try:
        value = parse_line(raw)
    except LineError as exc:
        return f"$: {exc}"
    error = best_match(validator.iter_errors(value))
    if error is None:
        return None
    return f"{error.json_path}: {short(error.message)}"


def split_lines(data: bytes) -> list[bytes]:
    """NDJSON lines: split on \\n; a final newline does not start another line."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def check_files(paths: list[str], validator: Draft202012Validator) -> int:
    status = 0
    for p in paths:
        data = sys.stdin.buffer.read() if p == "-" else Path(p).read_bytes()
        for n, raw in enumerate(split_lines(data), start=1):
            v = verdict(validator, raw)
            if v is None:
                print(f"{n}\tok")
            else:
                print(f"{n}\terror\t{v}")
                status = 1
    return status

# --------------------------------------------------------------------------- corpus


def check_corpus(env: Draft202012Validator, rec: Draft202012Validator, schemas: dict[str, dict]) -> int:
    """Every .valid line accepted, every .invalid line rejected, plus corpus conventions:
    every type has <Type>.valid.ndjson (>= 4 lines) and <Type>.invalid.ndjson (>= 8 lines),
    every line is one JSON object without duplicate keys, lines in a <Type> file have that
    type, and no file repeats a line."""
    types = schemas[ENVELOPE_ID]["properties"]["type"]["enum"]
    problems: list[str] = []
    counts = {"valid": 0, "invalid": 0}
    expected_files = {f"{t}.{kind}.ndjson" for t in types for kind in ("valid", "invalid")} | {"envelope.invalid.ndjson"}
    present = {p.name for p in EXAMPLES.glob("*.ndjson")}
    for missing in sorted(expected_files - present):
        problems.append(f"{missing}: missing")
    for extra in sorted(present - expected_files):
        problems.append(f"{extra}: not a <Type>.valid/.invalid or envelope.invalid file")

    for path in sorted(EXAMPLES.glob("*.ndjson")):
        if path.name not in expected_files:
            continue
        subject, kind, _ = path.name.split(".")
        lines = split_lines(path.read_bytes())
        minimum = 4 if kind == "valid" else 8
        if len(lines) < minimum:
            problems.append(f"{path.name}: {len(lines)} lines, want at least {minimum}")
        seen: dict[bytes, int] = {}
        for n, raw in enumerate(lines, start=1):
            where = f"{path.name}:{n}"
            if raw in seen:
                problems.append(f"{where}: repeats line {seen[raw]}")
            seen.setdefault(raw, n)
            try:
                value = parse_line(raw)
            except LineError as exc:
                problems.append(f"{where}: corpus lines must be valid JSON without duplicate keys ({exc})")
                continue
            if subject != "envelope" and (not isinstance(value, dict) or value.get("type") != subject):
                problems.append(f"{where}: a line of {path.name} must have type {subject!r}")
            v = verdict(env, raw)
            counts[kind] += 1
            if kind == "valid" and v is not None:
                problems.append(f"{where}: valid example rejected: {v}")
            elif kind == "invalid" and v is None:
                problems.append(f"{where}: invalid example accepted")
            if kind == "valid":
                # The same event as the ledger would export it must satisfy recorded-event.
                recorded = dict(value, seq=n, recorded_at="2026-04-01T12:00:00.000000Z", hash="0" * 64)
                recorded.setdefault("id", f"auto-{n}")
                recorded.setdefault("v", 1)
                e = best_match(rec.iter_errors(recorded))
                if e is not None:
                    problems.append(f"{where}: as a recorded event: {e.json_path}: {short(e.message)}")

    problems += self_test_recorded(rec)
    for p in problems:
        print(p)
    files = len(present & expected_files)
    print(f"{files} files, {counts['valid']} valid and {counts['invalid']} invalid lines: "
          + ("ok" if not problems else f"{len(problems)} problem(s)"))
    return 0 if not problems else 1


def self_test_recorded(rec: Draft202012Validator) -> list[str]:
    """A few recorded-event lines that must be accepted or rejected."""
    base = {"seq": 7, "id": "01964f2a-7b3c-7def-8123-456789abcdef", "type": "MemberJoined", "v": 1,
            "occurred_at": "2026-03-12T00:00:00Z", "recorded_at": "2026-03-20T10:11:12.123456Z",
            "actor": "network lead", "data": {"network_id": "nw-1", "org_id": "mat-1"},
            "hash": "9f" * 32}
    person = dict(base, type="PersonRegistered",
                  data={"person_id": "p-1", "org_id": "mat-1", "name": "(erased)", "email": "x" * 600})
    cases = [
        (base, True),
        ({k: v for k, v in base.items() if k != "actor"}, True),
        (person, True),
        (dict(base, seq=0), False),
        (dict(base, seq="7"), False),
        ({k: v for k, v in base.items() if k != "id"}, False),
        ({k: v for k, v in base.items() if k != "v"}, False),
        ({k: v for k, v in base.items() if k != "hash"}, False),
        ({k: v for k, v in base.items() if k != "recorded_at"}, False),
        (dict(base, hash="9F" * 32), False),
        (dict(base, hash="9f" * 31), False),
        (dict(base, recorded_at="2026-03-20T10:11:12Z"), False),
        (dict(base, recorded_at="2026-03-20T10:11:12.123456+00:00"), False),
        (dict(base, recorded_at="2026-02-30T10:11:12.123456Z"), False),
        (dict(base, actor=None), False),
        (dict(base, extra=1), False),
        (dict(base, data={"network_id": "nw-1"}), False),
        (dict(person, data=dict(person["data"], phone="1")), False),
        (dict(person, data=dict(person["data"], name="")), False),
    ]
    out = []
    for i, (instance, ok) in enumerate(cases, start=1):
        valid = rec.is_valid(instance)
        if valid != ok:
            out.append(f"recorded-event self-test {i}: expected {'valid' if ok else 'invalid'}, got the opposite")
    return out

# --------------------------------------------------------------------------- reports


def check_reports(schemas: dict[str, dict], argv: list[str]) -> int:
    """Whole report documents against schemas/reports/NAME.schema.json."""
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    sid = BASE + f"reports/{argv[0]}.schema.json"
    if sid not in schemas:
        print(f"no schema {sid}", file=sys.stderr)
        return 64
    validator = Draft202012Validator(schemas[sid], registry=make_registry(schemas), format_checker=format_checker())
    bad = 0
    for name in argv[1:]:
        try:
            with open(name, "rb") as f:
                doc = json.loads(f.read(), object_pairs_hook=_no_duplicates)
        except (OSError, ValueError, LineError) as exc:
            print(f"{name}\terror\t$: {short(str(exc))}")
            bad += 1
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: e.json_path)
        for e in errors:
            print(f"{name}\terror\t{e.json_path}: {short(e.message)}")
        if not errors:
            print(f"{name}\tok")
        bad += 1 if errors else 0
    return 0 if bad == 0 else 1

# --------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    schemas = load_schemas()
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if argv == ["--meta"]:
        return check_meta(schemas)
    if argv[:1] == ["--report"]:
        return check_reports(schemas, argv[1:])
    env, rec = validators(schemas)
    if not argv:
        return check_corpus(env, rec, schemas)
    validator = env
    if argv[0] == "--recorded":
        validator, argv = rec, argv[1:]
    if not argv or any(a.startswith("--") for a in argv):
        print(__doc__, file=sys.stderr)
        return 64
    return check_files(argv, validator)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
