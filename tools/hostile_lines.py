#!/usr/bin/env python3
"""Feeds generated hostile lines through `trellis import` and checks the answers.

    python3 tools/hostile_lines.py [--lines 10000] [--bin .build/debug/trellis] [--seed 1]

Lines are mutations of valid events (byte flips, truncations, type confusion, huge or
fractional numbers, deep nesting, NUL bytes, invalid UTF-8, lone surrogates, unknown and
duplicate fields, over-long ids and texts, impossible dates, rule violations). They are
imported into one ledger in files of 99 lines plus an always-invalid last line, so every
file must be rejected whole. For every import: exit code 65 (never a crash or another
code), every message of the form `line N: ...`, every line that is not even JSON named
in a message, and the ledger unchanged (same head). Every tenth file also goes into an empty
ledger (written with a rollback journal, BulkLoad.swift): refused too, nothing appended, the
ledger left in WAL mode. Prints the figures; exit 1 on failure.
"""
import argparse
import json
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = [
    {"type": "NetworkFormed", "occurred_at": "2025-09-01", "data": {"network_id": "npn2", "name": "Second network", "region": "North"}},
    {"type": "OrganisationRegistered", "occurred_at": "2025-09-01", "data": {"org_id": "elm", "name": "Elm Trust", "kind": "mat", "schools": 4}},
    {"type": "MemberJoined", "occurred_at": "2025-09-02", "data": {"network_id": "npn", "org_id": "ash"}},
    {"type": "MeetingHeld", "occurred_at": "2025-10-01T09:30:00Z", "data": {"meeting_id": "m2", "network_id": "npn", "title": "Autumn 2", "format": "online", "elements": ["research"]}},
    {"type": "AttendanceRecorded", "occurred_at": "2025-10-01", "data": {"meeting_id": "m1", "org_id": "oak", "status": "present"}},
    {"type": "ReviewCommitted", "occurred_at": "2025-10-01", "data": {"review_id": "rv9", "network_id": "npn", "reviewer_org_ids": ["oak"], "reviewee_org_id": "ash", "areas": ["finance"], "due_by": "2026-01-31"}},
    {"type": "ReviewCompleted", "occurred_at": "2025-12-01", "data": {"review_id": "rv1", "outcomes": [{"area": "finance", "judgement": "secure", "actions": 2}]}},
    {"type": "PersonRegistered", "occurred_at": "2025-09-01", "data": {"person_id": "p9", "org_id": "oak", "name": "A Person", "email": "a@b.example"}},
    {"type": "EventRetracted", "occurred_at": "2025-12-01", "data": {"event_id": "nope", "reason": "r"}},
]
FIXTURE = [
    {"id": "f1", "type": "NetworkFormed", "occurred_at": "2025-09-01", "data": {"network_id": "npn", "name": "North"}},
    {"id": "f2", "type": "OrganisationRegistered", "occurred_at": "2025-09-01", "data": {"org_id": "oak", "name": "Oak", "kind": "mat"}},
    {"id": "f3", "type": "OrganisationRegistered", "occurred_at": "2025-09-01", "data": {"org_id": "ash", "name": "Ash", "kind": "sat"}},
    {"id": "f4", "type": "MemberJoined", "occurred_at": "2025-09-01", "data": {"network_id": "npn", "org_id": "oak"}},
    {"id": "f5", "type": "MeetingHeld", "occurred_at": "2025-10-01", "data": {"meeting_id": "m1", "network_id": "npn", "title": "Autumn"}},
]
ODD = [None, True, 1.5, -1, 10**30, "", "x" * 600, [], {}, ["a", "a"], "2026-02-30", "\u0000", "😀" * 501, 0]


def mutate(rng: random.Random) -> bytes:
    e = json.loads(json.dumps(rng.choice(BASE)))
    kind = rng.randrange(14)
    if kind == 0:   # byte flip
        b = bytearray(json.dumps(e).encode())
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b).replace(b"\n", b" ")
    if kind == 1:   # truncation
        b = json.dumps(e).encode()
        return b[: rng.randrange(len(b))]
    if kind == 2:   # odd value in a data field
        k = rng.choice(list(e["data"]))
        e["data"][k] = rng.choice(ODD)
    elif kind == 3:  # odd value in an envelope field
        e[rng.choice(["type", "occurred_at", "v", "actor", "id", "data"])] = rng.choice(ODD)
    elif kind == 4:  # unknown field
        e["data"][rng.choice(["extra", "Org_id", "seq", "__proto__"])] = 1
    elif kind == 5:  # missing field
        e["data"].pop(rng.choice(list(e["data"])))
    elif kind == 6:  # deep nesting
        depth = rng.randint(30, 200)
        return b'{"type":"MemberJoined","occurred_at":"2025-09-01","data":' + b"[" * depth + b"]" * depth + b"}"
    elif kind == 7:  # raw NUL / control bytes / invalid UTF-8
        b = json.dumps(e).encode()
        i = rng.randrange(len(b))
        return b[:i] + rng.choice([b"\x00", b"\x01", b"\xff", b"\xc3", b"\xed\xa0\x80"]) + b[i:]
    elif kind == 8:  # lone surrogate escape
        return json.dumps(e).replace('"data"', '"actor":"\\ud83d","data"').encode()
    elif kind == 9:  # duplicate key
        return json.dumps(e)[:-1].encode() + b',"type":"MemberLeft"}'
    elif kind == 10:  # bad ids
        k = [k for k in e["data"] if k.endswith("_id")]
        if k:
            e["data"][rng.choice(k)] = rng.choice(["a b", "x" * 129, "é", "", "a/b", "a\u0000"])
    elif kind == 11:  # impossible dates and non-UTC times
        e["occurred_at"] = rng.choice(["2025-13-01", "2025-02-29", "2025-09-01T25:00:00Z", "2025-09-01T10:00:00+01:00", "20250901", "2025-9-1", "0999-01-01"])
    elif kind == 12:  # rule violations (unknown references)
        k = [k for k in e["data"] if k.endswith("_id")]
        if k:
            e["data"][rng.choice(k)] = "unknown-" + str(rng.randrange(10**6))
    else:            # not an object
        return rng.choice([b"[1,2,3]", b"42", b'"text"', b"null", b"{}", b"{]", b"\xef\xbb\xbf{}"])
    return json.dumps(e, ensure_ascii=rng.random() < 0.5).encode()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--bin", default=str(ROOT / ".build/debug/trellis"))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="trellis-hostile-"))
    db = str(work / "h.db")
    fixture = work / "fixture.ndjson"
    fixture.write_text("\n".join(json.dumps(e) for e in FIXTURE) + "\n")
    subprocess.run([args.bin, "import", "--db", db, str(fixture)], check=True, capture_output=True)
    def head_of() -> tuple:
        s = json.loads(subprocess.run([args.bin, "status", "--db", db, "--format", "json"], check=True, capture_output=True, text=True).stdout)
        return (s["events"], s["head_hash"])
    head = head_of()

    message = re.compile(r"^line \d+: (\S+: )?.+")
    total = files = messages = not_json = empties = 0
    while total < args.lines:
        lines = [mutate(rng) for _ in range(99)]
        lines = [l for l in lines if b"\n" not in l and b"\r" not in l]
        lines.append(b'{"type":"NoSuchType","occurred_at":"2025-09-01","data":{}}')
        f = work / f"h{files:04d}.ndjson"
        f.write_bytes(b"\n".join(lines) + b"\n")
        r = subprocess.run([args.bin, "import", "--db", db, str(f)], capture_output=True)
        files += 1
        total += len(lines)
        err = r.stderr.decode("utf-8", "replace")
        if r.returncode != 65:
            print(f"{f}: exit {r.returncode}, expected 65\n{err[-2000:]}", file=sys.stderr)
            return 1
        out = [l for l in err.splitlines() if l and not l.startswith("trellis: nothing was appended") and not l.startswith("(stopped after")]
        bad = [l for l in out if not message.match(l)]
        if bad:
            print(f"{f}: unclear messages: {bad[:5]}", file=sys.stderr)
            return 1
        named = {int(l.split(":")[0].split()[1]) for l in out}
        # After 100 errors the import stops reading: lines past the last one named are unread.
        last_read = max(named) if "(stopped after" in err else len(lines)
        for n, l in enumerate(lines, 1):
            if not l.strip(b" \t") or n > last_read:
                continue
            try:
                json.loads(l)
            except Exception:
                not_json += 1
                if n not in named:
                    print(f"{f}: line {n} is not JSON but has no message: {l[:120]!r}", file=sys.stderr)
                    return 1
        messages += len(out)
        # Every tenth file also into an empty ledger, which an import writes with a rollback
        # journal: refused the same way, nothing appended, the ledger left in WAL mode.
        if files % 10 == 1:
            empty = str(work / "empty.db")
            for suffix in ["", "-wal", "-shm", "-journal"]:
                Path(empty + suffix).unlink(missing_ok=True)
            subprocess.run([args.bin, "init", "--db", empty], check=True, capture_output=True)
            e = subprocess.run([args.bin, "import", "--db", empty, str(f)], capture_output=True)
            s = json.loads(subprocess.run([args.bin, "status", "--db", empty, "--format", "json"], check=True, capture_output=True, text=True).stdout)
            con = sqlite3.connect(empty)
            mode = con.execute("PRAGMA journal_mode").fetchone()[0]
            con.close()
            if e.returncode != 65 or s["events"] != 0 or mode != "wal":
                print(f"{f} into an empty ledger: exit {e.returncode}, {s['events']} events, journal {mode}", file=sys.stderr)
                return 1
            empties += 1
    after = head_of()
    if after != head:
        print(f"the ledger changed:\n{head}\n{after}", file=sys.stderr)
        return 1
    for p in work.iterdir():
        p.unlink()
    work.rmdir()
    print(f"hostile lines: {total} lines in {files} imports, 0 crashes, every import exit 65, "
          f"{messages} messages all of the form 'line N: ...' ({not_json} lines not even JSON, each named), nothing appended; "
          f"{empties} of the files also into an empty ledger: refused, nothing appended, still in WAL mode")
    return 0


if __name__ == "__main__":
    sys.exit(main())
