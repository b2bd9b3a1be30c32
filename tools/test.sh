#!/usr/bin/env bash
# Every test: Release and sanitizer builds through ctest, then the descriptor
# fuzzer for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
jobs=$(nproc)

for preset in release sanitize; do
  echo "== $preset: configure, build, test"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset" -j "$jobs"
done

echo "== fuzz: descriptor parser, ${CONVBENCH_FUZZ_SECONDS:-60} s"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
corpus=$(mktemp -d)
trap 'rm -rf "$corpus" "$corpus.log"' EXIT
# Seed corpus: the shape files' descriptors, one per file, without the newline.
n=0
while read -r line; do
  n=$((n + 1))
  printf '%s' "$line" >"$corpus/seed$n"
done < <(grep -h -v -e '^#' -e '^$' bench/shapes/*.txt)
rc=0
build/fuzz/bin/fuzz_conv_desc -max_total_time="${CONVBENCH_FUZZ_SECONDS:-60}" \
  -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "$corpus" >"$corpus.log" 2>&1 || rc=$?
if [ $rc -ne 0 ]; then
  tail -n 40 "$corpus.log"
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi
grep -E '^(Done|stat::number_of_executed_units)' "$corpus.log" || true
echo "fuzz: 1 passed, 0 failed"
