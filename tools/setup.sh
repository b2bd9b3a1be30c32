#!/usr/bin/env bash
# Installs, with apt-get, every Debian package convbench builds, tests or plots
# with; installs nothing that is already there. Run by bench.sh and test.sh;
# `setup.sh --list` prints the list (tools/check-deps proves it complete).
set -euo pipefail

CONVBENCH_PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config clang libclang-rt-14-dev
  # libraries (the README says why each one is here)
  nlohmann-json3-dev libcli11-dev libgtest-dev libbenchmark-dev
  libdnnl-dev libopenblas-openmp-dev libeigen3-dev libhwy-dev
  libxnnpack-dev libpthreadpool-dev
  # Debian's oneDNN CMake config calls find_package(OpenCL REQUIRED), but
  # libdnnl-dev only recommends this package, and we install without recommends
  ocl-icd-opencl-dev
  # Python tools and their tests (Debian's /usr/bin/python3 sees these)
  python3 python3-numpy python3-matplotlib python3-pytest python3-onnx
)
# Only for tools/zoo/make-zoo, which regenerates bench/networks/ (committed):
# `tools/setup.sh --zoo` adds them.
CONVBENCH_ZOO_PACKAGES=(python3-torchvision)

if [ "${1:-}" = --list ]; then
  printf '%s\n' "${CONVBENCH_PACKAGES[@]}"
  exit 0
fi
if [ "${1:-}" = --zoo ]; then
  CONVBENCH_PACKAGES+=("${CONVBENCH_ZOO_PACKAGES[@]}")
fi

missing=()
for p in "${CONVBENCH_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: error: packages missing and not root: ${missing[*]}" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
