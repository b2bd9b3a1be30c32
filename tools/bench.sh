#!/usr/bin/env bash
# The main job: set up, build Release into build/, print the four kinds' costs
# for the default layer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
build/bin/convbench-calc --kind all --shape "${CONVBENCH_SHAPE:-mb1ic64ih56oc64oh56kh3}" --act relu
