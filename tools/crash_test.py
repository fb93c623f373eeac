#!/usr/bin/env python3
"""Crash safety: kill `trellis import` with SIGKILL at random moments, then check the ledger.

    python3 tools/crash_test.py [--runs 50] [--bin .build/debug/trellis] [--seed 1] [--batch 20000]

Each run imports the next batch of a generated region into one ledger and kills the import
after a random delay (sometimes before it starts writing, sometimes mid-batch, sometimes
after it has committed). After every kill:
  * `trellis verify` must pass (exit 0);
  * every batch whose import reported success (exit 0) must be fully present;
  * no batch may be partly present: each batch's ids are all in the ledger or none are.
A killed batch is retried in the next run, so the ledger keeps growing. Prints one line of
figures at the end; exits 1 on the first violation.
"""
import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--bin", default=str(ROOT / ".build/debug/trellis"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=20000, help="events per import")
    ap.add_argument("--max-delay", type=float, default=0.8, help="kill within this many seconds of the start")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    work = Path(tempfile.mkdtemp(prefix="trellis-crash-"))
    db = work / "crash.db"
    # Enough events for every run to have a batch (about 42 events per organisation and year).
    orgs = max(400, args.runs * args.batch // (6 * 40))
    region = subprocess.run([args.bin, "generate", "--networks", "4", "--orgs", str(orgs), "--years", "6", "--seed", str(args.seed)],
                            check=True, capture_output=True).stdout.splitlines()
    batches = [region[i:i + args.batch] for i in range(0, len(region), args.batch)]
    files = []
    for k, b in enumerate(batches):
        f = work / f"batch-{k:03d}.ndjson"
        f.write_bytes(b"\n".join(b) + b"\n")
        files.append(f)
    ids = [[line.split(b'"id":"', 1)[1].split(b'"', 1)[0].decode() for line in b] for b in batches]

    acknowledged = set()   # batches whose import exited 0
    killed = survived = clean = 0
    k = 0
    for run in range(args.runs):
        if k >= len(files):
            break
        proc = subprocess.Popen([args.bin, "import", "--db", str(db), str(files[k])],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        delay = rng.uniform(0.0, args.max_delay)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        out, err = proc.communicate()
        if proc.returncode == 0:
            acknowledged.add(k)
            clean += 1
        elif proc.returncode != -signal.SIGKILL:
            print(f"run {run}: import exited {proc.returncode}: {err.decode(errors='replace')}", file=sys.stderr)
            return 1
        # Verify the chain.
        v = subprocess.run([args.bin, "verify", "--db", str(db)], capture_output=True, text=True)
        if v.returncode != 0:
            print(f"run {run}: verify failed after kill at {delay:.3f}s: {v.stdout}{v.stderr}", file=sys.stderr)
            return 1
        # All or nothing, and acknowledged batches present.
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        present = {row[0] for row in con.execute("SELECT id FROM events")}
        con.close()
        for j in range(len(files)):
            n = sum(1 for i in ids[j] if i in present)
            if n not in (0, len(ids[j])):
                print(f"run {run}: batch {j} partly present ({n} of {len(ids[j])})", file=sys.stderr)
                return 1
            if j in acknowledged and n != len(ids[j]):
                print(f"run {run}: batch {j} was acknowledged but is missing", file=sys.stderr)
                return 1
        survived += 1
        if all(i in present for i in ids[k]):
            k += 1  # this batch is in (committed before or despite the kill): go on to the next
    print(f"crash test: {survived} kills/runs survived ({killed} SIGKILLs mid-import, {clean} imports completed), "
          f"{k} batches of {args.batch} committed, verify passed every time, no batch partly present")
    for p in work.iterdir():
        p.unlink()
    work.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
