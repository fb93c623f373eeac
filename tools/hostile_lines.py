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

With `--postgres URL` (a server a test may create databases on, as `make test` starts), every
file also goes into the same fixture on the PostgreSQL store, and the two stores must answer
alike: the same exit code and, byte for byte, the same messages; the PostgreSQL ledger is left
unchanged too. (A script driving the CLI must not see which store it talks to.)
"""
import argparse
import atexit
import json
import os
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
# Ids by field that the ledger holds (the fixture's) or that another line of the same file may
# create (BASE's), and a few nobody does: a line naming them meets the rules' view of the ledger.
KNOWN = {"network_id": ["npn", "npn2"], "org_id": ["oak", "ash", "elm"], "meeting_id": ["m1", "m2"],
         "event_id": ["f1", "f2", "f3", "f4", "f5", "dup"], "review_id": ["rv1", "rv9"], "person_id": ["p9", "p1"]}
ODD = [None, True, 1.5, -1, 10**30, "", "x" * 600, [], {}, ["a", "a"], "2026-02-30", "\u0000", "😀" * 501, 0]


class PostgresLedger:
    """The fixture in a database of its own on `server`, driven by the same binary."""

    def __init__(self, server: str, binary: str, work: Path, fixture: Path | None, name: str = "fixture"):
        self.server, self.bin = server, binary
        self.name = f"trellis_hostile_{name}_{os.getpid()}"
        self.psql(f"DROP DATABASE IF EXISTS {self.name}")
        self.psql(f"CREATE DATABASE {self.name}")
        base, _, query = server.partition("?")
        scheme, _, rest = base.partition("://")
        host = rest.split("/", 1)[0]
        self.url = f"{scheme}://{host}/{self.name}" + (f"?{query}" if query else "")
        self.env = dict(os.environ, TRELLIS_CACHE=str(work / f"pg-cache-{name}.db"))
        for command in [["init", "--db", self.url]] + ([["import", "--db", self.url, str(fixture)]] if fixture else []):
            r = self.run(command)
            if r.returncode != 0:
                raise SystemExit(f"PostgreSQL ledger: {' '.join(command)}: exit {r.returncode}\n{r.stderr.decode('utf-8', 'replace')}")

    def psql(self, sql: str) -> None:
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.server, "-c", sql], check=True, capture_output=True)

    def run(self, command: list) -> subprocess.CompletedProcess:
        return subprocess.run([self.bin] + command, capture_output=True, env=self.env)

    def head(self) -> tuple:
        r = self.run(["status", "--db", self.url, "--format", "json"])
        s = json.loads(r.stdout)
        return (s["events"], s["head_hash"])

    def drop(self) -> None:
        self.psql(f"DROP DATABASE IF EXISTS {self.name}")


def mutate(rng: random.Random) -> bytes:
    e = json.loads(json.dumps(rng.choice(BASE)))
    kind = rng.randrange(15)
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
    elif kind == 13:  # references to what the fixture holds: the rules' reads of the ledger
        # (already used ids, memberships, events retracted twice in one file)
        k = [k for k in e["data"] if k.endswith("_id")]
        if k:
            field = rng.choice(k)
            e["data"][field] = rng.choice(KNOWN.get(field, ["npn", "oak", "ash", "m1"]))
        if rng.random() < 0.3:
            e["id"] = rng.choice(["f1", "f2", "f3", "f4", "f5", "dup"])
    else:            # not an object
        return rng.choice([b"[1,2,3]", b"42", b'"text"', b"null", b"{}", b"{]", b"\xef\xbb\xbf{}"])
    return json.dumps(e, ensure_ascii=rng.random() < 0.5).encode()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--bin", default=str(ROOT / ".build/debug/trellis"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--postgres", default=None, help="also import every file into a PostgreSQL ledger on this server and compare")
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
    pg = None
    if args.postgres:
        # Each dropped however the run ends: a failure leaves no database on a lasting server.
        pg = PostgresLedger(args.postgres, args.bin, work, fixture)
        atexit.register(pg.drop)
        pg_empty = PostgresLedger(args.postgres, args.bin, work, None, name="empty")
        atexit.register(pg_empty.drop)
    pg_head = pg.head() if pg else None

    message = re.compile(r"^line \d+: (\S+: )?.+")
    total = files = messages = not_json = empties = compared = 0
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
        if pg:
            p = pg.run(["import", "--db", pg.url, str(f)])
            if p.returncode != r.returncode or p.stderr != r.stderr:
                print(f"{f}: the stores answer differently:\n  file store: exit {r.returncode}\n{err[-1500:]}\n"
                      f"  PostgreSQL: exit {p.returncode}\n{p.stderr.decode('utf-8', 'replace')[-1500:]}", file=sys.stderr)
                return 1
            compared += 1
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
            if pg:
                # An empty PostgreSQL ledger: where a batch's shortcuts for an empty log apply.
                q = pg_empty.run(["import", "--db", pg_empty.url, str(f)])
                if q.returncode != e.returncode or q.stderr != e.stderr or pg_empty.head()[0] != 0:
                    print(f"{f} into an empty ledger: the stores answer differently:\n  file store: exit {e.returncode}\n"
                          f"{e.stderr.decode('utf-8', 'replace')[-1500:]}\n  PostgreSQL: exit {q.returncode}\n"
                          f"{q.stderr.decode('utf-8', 'replace')[-1500:]}", file=sys.stderr)
                    return 1
                compared += 1
            empties += 1
    after = head_of()
    if after != head:
        print(f"the ledger changed:\n{head}\n{after}", file=sys.stderr)
        return 1
    if pg:
        if pg.head() != pg_head:
            print(f"the PostgreSQL ledger changed:\n{pg_head}\n{pg.head()}", file=sys.stderr)
            return 1
    for p in work.iterdir():
        p.unlink()
    work.rmdir()
    print(f"hostile lines: {total} lines in {files} imports, 0 crashes, every import exit 65, "
          f"{messages} messages all of the form 'line N: ...' ({not_json} lines not even JSON, each named), nothing appended; "
          f"{empties} of the files also into an empty ledger: refused, nothing appended, still in WAL mode"
          + (f"; on PostgreSQL too (the fixture, and an empty ledger), {compared} imports answered alike (exit code and every message), nothing appended" if pg else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
