#!/usr/bin/env bash
# The main job: set up, build Release into build/, print the four kinds' costs
# for the default layer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
# This machine's shell forces OpenBLAS onto its AVX2 kernels; measure it as it
# detects the CPU itself unless asked not to (the core in use is recorded anyway).
if [ "${CONVBENCH_KEEP_OPENBLAS_ENV:-0}" != 1 ]; then
  unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
fi
cmake --preset release >/dev/null
cmake --build --preset release
build/bin/convbench-calc --kind all --shape "${CONVBENCH_SHAPE:-mb1ic64ih56oc64oh56kh3}" --act relu
