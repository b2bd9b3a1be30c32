#!/usr/bin/env bash
# tools/ab.sh BIN_A BIN_B [ROUNDS] -- CONVBENCH_ARGS...
# Alternates two builds of the benchmark binary (folders holding convbench) on
# the same cases, ROUNDS times (default 4; even counts balance the order), and
# prints each case's median over the rounds for A and B and their ratio: on a
# shared VM, runs of one binary drift by more than the few per cent a kernel
# change is worth, and only alternation puts A and B in the same stretches.
set -euo pipefail
if [ $# -lt 3 ]; then sed -n '2,8p' "$0" >&2; exit 2; fi
a=$1 b=$2; shift 2
rounds=4
if [ "$1" != -- ]; then rounds=$1; shift; fi
[ "${1:-}" = -- ] && shift
for bin in "$a" "$b"; do
  [ -x "$bin/convbench" ] || { echo "ab.sh: error: $bin/convbench is not an executable" >&2; exit 2; }
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "ab.sh: error: ROUNDS must be a positive integer" >&2; exit 2; }
if [ "${CONVBENCH_KEEP_OPENBLAS_ENV:-0}" != 1 ]; then unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq "$rounds"); do
  # A first in odd rounds, B first in even ones: on the 2-vCPU VMs the binary
  # run second read 3-5 % slower whichever it was.
  order="A B"; [ $((r % 2)) = 0 ] && order="B A"
  for side in $order; do
    bin=$a; [ $side = B ] && bin=$b
    "$bin"/convbench "$@" --benchmark_out="$out/$side.$r.json" --benchmark_out_format=json \
      >/dev/null 2>"$out/$side.$r.err" || { cat "$out/$side.$r.err" >&2; exit 1; }
  done
done
/usr/bin/python3 - "$out" "$rounds" <<'PY'
import glob, json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
med = {"A": {}, "B": {}}
for side in med:
    for f in sorted(glob.glob(f"{out}/{side}.*.json")):
        per = {}
        for b in json.load(open(f))["benchmarks"]:
            if b.get("run_type", "iteration") == "iteration":
                per.setdefault(b.get("run_name", b["name"]), []).append(b["real_time"])
        for name, ts in per.items():
            med[side].setdefault(name, []).append(statistics.median(ts))
names = sorted(set(med["A"]) & set(med["B"]))
w = max(len(n) for n in names)
print(f"{'case':<{w}} {'A':>10} {'B':>10} {'B/A':>7}   ({rounds} alternated rounds, medians)")
for n in names:
    x, y = statistics.median(med["A"][n]), statistics.median(med["B"][n])
    print(f"{n:<{w}} {x:10.1f} {y:10.1f} {y / x:7.3f}")
PY
