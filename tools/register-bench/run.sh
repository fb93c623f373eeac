#!/bin/sh
# Times `trellis register import` of a 2,000-organisation × 30-meeting register (60,000 cells)
# into a ledger holding those organisations and meetings, then a re-import (nothing to append).
# Usage: tools/register-bench/run.sh [path/to/trellis]   (default: .build/release/trellis)
set -eu
BIN=${1:-.build/release/trellis}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/trellis-register-bench-XXXXXX")
trap 'rm -rf "$DIR"' EXIT
python3 - "$DIR" <<'PY'
import csv, sys
d = sys.argv[1]
with open(f"{d}/region.ndjson", "w") as f:
    w = lambda s: f.write(s + "\n")
    w('{"id":"nf","type":"NetworkFormed","occurred_at":"2025-09-01","data":{"network_id":"npn","name":"Bench network"}}')
    for i in range(2000):
        w('{"id":"or%d","type":"OrganisationRegistered","occurred_at":"2025-09-01","data":{"org_id":"org%04d","name":"Trust number %d","kind":"mat"}}' % (i, i, i))
        w('{"id":"mj%d","type":"MemberJoined","occurred_at":"2025-09-02","data":{"network_id":"npn","org_id":"org%04d"}}' % (i, i))
    for m in range(30):
        day = "2025-%02d-%02d" % (9 + m // 10, 3 + (m % 10) * 2)
        w('{"id":"mh%d","type":"MeetingHeld","occurred_at":"%s","data":{"meeting_id":"m%02d","network_id":"npn","title":"Meeting %d"}}' % (m, day, m, m))
PY
"$BIN" import --db "$DIR/t.db" "$DIR/region.ndjson" >/dev/null
"$BIN" register template --db "$DIR/t.db" --network npn --from 2025-09-01 --to 2026-09-01 --out "$DIR/register.csv"
python3 - "$DIR" <<'PY'
import csv, sys
d = sys.argv[1]
rows = list(csv.reader(open(f"{d}/register.csv", encoding="utf-8-sig")))
codes = ["P", "P", "Apols", "A", "P", "Present", "Y", "x"]
for i, r in enumerate(rows[2:]):
    for j in range(2, len(r)):
        r[j] = codes[(i * 31 + j) % len(codes)]
csv.writer(open(f"{d}/filled.csv", "w", newline="")).writerows(rows)
PY
"$BIN" orgs --db "$DIR/t.db" --network npn >/dev/null   # read models caught up before timing
t() { start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); echo "$end - $start" | bc; }
echo "register import, 2000 x 30 (60000 records): $(t "$BIN" register import --db "$DIR/t.db" "$DIR/filled.csv" --network npn) s"
echo "re-import, nothing to append:               $(t "$BIN" register import --db "$DIR/t.db" "$DIR/filled.csv" --network npn) s"
echo "dry run:                                    $(t "$BIN" register import --db "$DIR/t.db" "$DIR/filled.csv" --network npn --dry-run) s"
