#!/usr/bin/env bash
# The main job: set up, build Release into build/, then the default sweep: the
# four kinds x relu/elu/tanh x k = 1..9 on the main backends, one thread, one
# Google Benchmark JSON per (kind, activation, k) under results/<timestamp>/.
# An interrupted sweep keeps every finished file; `tools/bench.sh --resume [DIR]`
# finishes only what is missing (in DIR, or the newest results folder).
# Extra arguments after `--` go to build/bin/convbench.
set -euo pipefail
cd "$(dirname "$0")/.."

resume="" extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --resume)
      resume=latest
      if [ $# -gt 1 ] && [ "${2#--}" = "$2" ]; then resume=$2; shift; fi ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "bench.sh: error: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

bash tools/setup.sh
# This machine's shell forces OpenBLAS onto its AVX2 kernels; measure it as it
# detects the CPU itself unless asked not to (the core in use is recorded anyway).
if [ "${CONVBENCH_KEEP_OPENBLAS_ENV:-0}" != 1 ]; then
  unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
fi
cmake --preset release >/dev/null
cmake --build --preset release

if [ -n "$resume" ]; then
  if [ "$resume" = latest ]; then
    # The newest sweep folder (named by its UTC start time; race-* folders are not sweeps).
    out=$(ls -d results/[0-9]*/ 2>/dev/null | sort | tail -n 1)
    [ -n "$out" ] || { echo "bench.sh: error: --resume: no results folder to resume" >&2; exit 2; }
  else
    out=$resume
  fi
  [ -d "$out" ] || { echo "bench.sh: error: --resume: $out is not a folder" >&2; exit 2; }
  out=${out%/}
else
  out=results/$(date -u +%Y%m%dT%H%M%SZ)
  mkdir -p "$out"
fi
# One bench.sh per results folder: a second one would write the same files.
exec 9>"$out/.lock"
if ! flock -n 9; then
  echo "bench.sh: error: another tools/bench.sh is writing $out (remove $out/.lock if none is)" >&2
  exit 2
fi
# Partial files of an interrupted run are never kept: a group is redone whole.
rm -f "$out"/*.tmp
trap 'rm -f "$out"/*.tmp "$out"/*.json.log' EXIT

# The main backends: oneDNN, and the best hand-written one (specialist kernels
# per stage, depthwise + pointwise fused).
backends=${CONVBENCH_BACKENDS:-onednn,hand_fused_nhwc}

# run_group NAME FLAGS...: one convbench run into $out/NAME.json, skipped when
# that file is already there; one progress line per finished case.
n=0 ran=0 total=0
run_group() {
  local name=$1; shift
  n=$((n + 1))
  local file="$out/$name.json"
  [ -s "$file" ] && return 0
  build/bin/convbench --backends="$backends" "$@" \
    --benchmark_out="$file.tmp" --benchmark_out_format=json \
    --benchmark_min_time="${CONVBENCH_MIN_TIME:-0.3}" --benchmark_format=console \
    ${extra[@]+"${extra[@]}"} >"$file.log" 2>&1 || {
      echo "bench: $name failed:" >&2; tail -n 20 "$file.log" >&2; exit 1; }
  mv "$file.tmp" "$file"
  ran=$((ran + 1))
  grep -E '^(normal|spatial|depthwise|dw_spatial)/' "$file.log" | awk -v n="$n" -v t="$total" \
    '{ pct=""; for (i = 1; i <= NF; ++i) if ($i ~ /^peak_pct=/) { pct=$i; sub(/\/s$/, "%", pct) }
       printf "[%d/%d] %-64s %10s %s  %s\n", n, t, $1, $2, $3, pct }'
  rm -f "$file.log"
}

kinds=(normal spatial depthwise dw_spatial)
acts=(relu elu tanh)
total=$(( ${#kinds[@]} * ${#acts[@]} * 9 + 3 ))
echo "bench: results in $out, backends $backends"
# The sweep: four kinds x three activations x k = 1..9, one file per (kind, act, k).
for kind in "${kinds[@]}"; do
  for act in "${acts[@]}"; do
    for k in 1 2 3 4 5 6 7 8 9; do
      run_group "${kind}_${act}_k$k" --kinds="$kind" --acts="$act" --k="$k"
    done
  done
done
# What the studies also asked: the cost of activations, fused and not; the
# precisions with their reorders (oneDNN, plain NCHW and NHWC user tensors); and
# the phone study's twelve networks.
run_group activations --k=3 --acts=none,relu,elu,tanh --fusion=fused,unfused
backends_saved=$backends
backends=onednn
run_group precisions --k=3 --acts=relu --precisions=f32,bf16,int8 --layouts=nhwc,nchw
backends=$backends_saved
run_group networks --models --acts=relu,elu,tanh
echo "bench: $ran group(s) run, $((total - ran)) already there; results in $out"
tools/report "$out"
