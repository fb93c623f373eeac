#!/usr/bin/env bash
# Builds the libFuzzer target over the decoder and rules, and fuzzes for N seconds (default 60).
#   tools/fuzz/run.sh [seconds] [extra libFuzzer flags]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-60}"; shift || true
src=Sources/TrellisCore
out=.build-fuzz
mkdir -p "$out" tools/fuzz/findings
# TrellisCore's pure sources (the canonical envelope's SHA-256 needs swift-crypto: left out).
swiftc -sanitize=fuzzer,address -parse-as-library -O -swift-version 6 -package-name trellis \
  "$src"/JSON/*.swift "$src"/Domain/EventType.swift "$src"/Domain/EventDecoder.swift \
  "$src"/Domain/InputError.swift "$src"/Domain/Timestamp.swift "$src"/Rules/Rules.swift \
  "$src"/Text/*.swift "$src"/Canonical/CanonicalForm.swift \
  tools/fuzz/FuzzDecoder.swift -o "$out/fuzz-decoder"
work=$(mktemp -d)
cp tools/fuzz/corpus/* "$work/"
"$out/fuzz-decoder" "$work" -max_total_time="$secs" -max_len=4096 -artifact_prefix=tools/fuzz/findings/ -print_final_stats=1 "$@" 2>&1 | tail -25
rm -rf "$work"
