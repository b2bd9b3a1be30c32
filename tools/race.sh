#!/usr/bin/env bash
# The hand-written kernels against oneDNN on the cases the kernels issues name
# (bench/shapes/network_layers.txt: the layer classes of whole networks),
# ReLU (ACTS=elu,tanh for the others), 1 and 2 threads (THREADS=1,2,4,... for a
# scaling run), medians of 5 repetitions (REPS): writes results/race-<timestamp>/
# (JSON, and tools/report's vs_onednn.csv) and prints the ratio table.
# Assumes a Release build in build/ (tools/bench.sh makes one); BIN points
# elsewhere (a build carried to another machine).
set -euo pipefail
cd "$(dirname "$0")/.."
out=results/race-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
if [ "${CONVBENCH_KEEP_OPENBLAS_ENV:-0}" != 1 ]; then unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; fi
common=(--acts="${ACTS:-relu}" --threads="${THREADS:-1,2}" --benchmark_repetitions="${REPS:-5}" --benchmark_min_time=0.3
        --benchmark_enable_random_interleaving=true
        --benchmark_out_format=json)
run() { local name=$1; shift; "${BIN:-build/bin}"/convbench "$@" "${common[@]}" --benchmark_out="$out/$name.json" >"$out/$name.log" 2>&1 || { tail "$out/$name.log" >&2; exit 1; }; }
run normal --kinds=normal --backends=onednn,hand_nhwc --k=1,3,5,7,9
run dw_stage --kinds=normal --backends=onednn,hand_nhwc --shape=g64mb1ic64ih56oc64oh56kh3 --k=3,4,5,6,7,8,9
run pw_stage --kinds=normal --backends=onednn,hand_nhwc --shape=mb1ic64ih56oc128oh56kh1
run fused_block --kinds=depthwise --backends=onednn,hand_fused_nhwc,hand_nhwc --k=3,5,7
# The layer classes of whole networks (stems, small pointwise and depthwise, odd channels).
run network_layers --kinds=normal --backends=onednn,hand_nhwc --shapes=bench/shapes/network_layers.txt
tools/report "$out" >/dev/null
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) ($(nproc) cores)"
/usr/bin/python3 - "$out/vs_onednn.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"{'case':<58} {'threads':>7} {'oneDNN us':>10} {'hand us':>9} {'ratio':>6}")
for r in rows:
    case = f"{r['kind']} {r['act']} {r['shape']} {r['backend']}"
    print(f"{case:<58} {r['threads']:>7} {float(r['onednn_us']):10.1f} {float(r['backend_us']):9.1f} {float(r['speed_vs_onednn']):6.2f}")
PY
echo "results in $out"
