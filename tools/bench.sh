#!/usr/bin/env bash
# The main job: set up, build Release into build/, then the default sweep: the
# four kinds x relu/elu/tanh x k = 1..9 on the main backends, one thread, one
# Google Benchmark JSON per (kind, activation, k) under results/<timestamp>/.
# An interrupted sweep keeps every finished file; `tools/bench.sh --resume [DIR]`
# finishes only what is missing (in DIR, or the newest results folder).
# Extra arguments after `--` go to build/bin/convbench.
# The sweep ends with the OpenVINO studies' group, into DIR/studies/: every
# network of bench/networks/ profiled layer by layer on oneDNN (f32, bf16, int8,
# int8_chained; NHWC and NCHW) and on the best hand-written backend, one thread
# and all cores; tools/studies writes the studies' tables beside them.
# `tools/bench.sh --studies [--resume [DIR]]` runs that group alone, into
# results/<time>-studies/.
set -euo pipefail
cd "$(dirname "$0")/.."

resume="" extra=() studies=0
while [ $# -gt 0 ]; do
  case "$1" in
    --studies) studies=1 ;;
    --resume)
      resume=latest
      if [ $# -gt 1 ] && [ "${2#--}" = "$2" ]; then resume=$2; shift; fi ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
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
  if [ "$resume" = latest ] && [ $studies = 1 ]; then
    out=$(ls -d results/[0-9]*-studies/ 2>/dev/null | sort | tail -n 1)
    [ -n "$out" ] || { echo "bench.sh: error: --resume: no studies folder to resume" >&2; exit 2; }
  elif [ "$resume" = latest ]; then
    # The newest sweep folder (named by its UTC start time; race-* and
    # *-studies folders are not sweeps).
    out=$(ls -d results/[0-9]*Z/ 2>/dev/null | sort | tail -n 1)
    [ -n "$out" ] || { echo "bench.sh: error: --resume: no results folder to resume" >&2; exit 2; }
  else
    out=$resume
  fi
  [ -d "$out" ] || { echo "bench.sh: error: --resume: $out is not a folder" >&2; exit 2; }
  out=${out%/}
else
  out=results/$(date -u +%Y%m%dT%H%M%SZ)
  [ $studies = 1 ] && out=$out-studies
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

# run_studies DIR: the studies' group into DIR, then its tables.
run_studies() {
  local sdir=$1
  mkdir -p "$sdir"
  rm -f "$sdir"/*.tmp
  # profile NAME ARGS...: one convbench-profile --json into $out/NAME.json,
  # skipped when there; a configuration the backend refuses (bf16 on a CPU
  # without it) is kept as {"skipped": why} so that --resume does not retry it.
  all=$(nproc) n=0 ran=0 t0=$(date +%s)
  # CONVBENCH_STUDY_NETS: a space-separated subset of network files.
  read -r -a nets <<<"${CONVBENCH_STUDY_NETS:-$(echo bench/networks/*.net)}"
  for net in "${nets[@]}"; do
    [ -f "$net" ] || { echo "bench.sh: error: CONVBENCH_STUDY_NETS: $net: no such file" >&2; exit 2; }
  done
  mnv3=bench/networks/mobilenet_v3_large.net
  total=$(( ${#nets[@]} * 14 ))
  [[ " ${nets[*]} " == *" $mnv3 "* ]] && total=$((total + 2))
  profile() {
    local name=$1; shift
    n=$((n + 1))
    local file="$sdir/$name.json"
    [ -s "$file" ] && return 0
    local rc=0
    build/bin/convbench-profile --json --warmup 1 --min-time "${CONVBENCH_STUDY_SECONDS:-0.5}" \
      --iters 30 "$@" >"$file.tmp" 2>"$file.log" || rc=$?
    # Status 1 with a profile written: --check found the output beyond the
    # tolerance, which the accuracy table reports; not a failed run.
    if [ $rc -eq 1 ] && grep -q '"check"' "$file.tmp"; then
      rc=0
    fi
    if [ $rc -ne 0 ] && grep -qE 'refuses|unavailable|no bf16|has no int8' "$file.log"; then
      /usr/bin/python3 -c 'import json,sys; print(json.dumps({"skipped": sys.argv[1], "args": sys.argv[2:]}))' \
        "$(tail -n 1 "$file.log")" "$@" >"$file.tmp"
    elif [ $rc -ne 0 ]; then
      echo "bench: $name failed:" >&2; tail -n 20 "$file.log" >&2; exit 1
    fi
    mv "$file.tmp" "$file"
    rm -f "$file.log"
    ran=$((ran + 1))
    printf '[%d/%d] %-60s %4ds\n' "$n" "$total" "$name" $(( $(date +%s) - t0 ))
  }
  echo "bench: studies in $sdir ($all cores)"
  for net in "${nets[@]}"; do
    b=$(basename "$net" .net)
    for prec in f32 bf16 int8 int8_chained; do
      for layout in nhwc nchw; do
        # Accuracy of the reduced precisions, against oneDNN f32 (itself checked
        # against the reference by the tests): once per network and precision.
        check=()
        [ $prec != f32 ] && [ $layout = nhwc ] && check=(--check --check-backend onednn)
        profile "${b}__onednn_${prec}_${layout}_t1" --network "$net" --backend onednn \
          --precision $prec --layout $layout --threads 1 ${check[@]+"${check[@]}"}
      done
      profile "${b}__onednn_${prec}_nhwc_t$all" --network "$net" --backend onednn \
        --precision $prec --layout nhwc --threads "$all"
    done
    for t in 1 "$all"; do
      profile "${b}__hand_fused_nhwc_f32_nhwc_t$t" --network "$net" --backend hand_fused_nhwc \
        --threads "$t"
    done
  done
  # 004: h-swish fused against unfused, f32 and int8, MobileNetV3-Large.
  if [[ " ${nets[*]} " == *" $mnv3 "* ]]; then
    for prec in f32 int8; do
      profile "mobilenet_v3_large__onednn_${prec}_nhwc_t1_unfused" --unfused \
        --network "$mnv3" --backend onednn --precision $prec --threads 1
    done
  fi
  echo "bench: $ran profile(s) run, $((total - ran)) already there, $(( $(date +%s) - t0 )) s; results in $sdir"
  tools/studies "$sdir"
}
if [ $studies = 1 ]; then
  trap 'rm -f "$out"/*.tmp "$out"/*.json.log' EXIT
  run_studies "$out"
  exit 0
fi

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
trap 'rm -f "$out"/*.tmp "$out"/*.json.log "$out"/studies/*.tmp "$out"/studies/*.json.log' EXIT
run_studies "$out/studies"
