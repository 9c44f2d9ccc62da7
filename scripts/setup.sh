#!/usr/bin/env bash
# Installs everything vitc needs on Debian 12 and builds it into ./build.
# Safe to run again: installed packages are skipped and the build is
# incremental.
#
#   scripts/setup.sh            install dependencies, configure, build
#   BUILD_DIR=out scripts/setup.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
LLVM_ROOT=/usr/lib/llvm-22

DEBIAN_PACKAGES=(
  # LLVM/MLIR 22 (bookworm-security) and its test tools (lit, FileCheck, not).
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22
  liblld-22-dev
  # clang's sanitizer and libFuzzer runtimes (scripts/sanitize.sh, fuzz.sh).
  libclang-rt-22-dev
  # Build tools and unit-test framework.
  cmake ninja-build libgtest-dev python3
  # The .vitb artifact format (flatc and the header-only reader).
  flatbuffers-compiler libflatbuffers-dev
  # The image decoders of vit-run (PNG, JPEG), and stb_image_write.h, which
  # writes the image fuzzer's seed JPEGs.
  libspng-dev libturbojpeg0-dev libstb-dev
  # The artifact checksums (xxhash.h, XXH3).
  libxxhash-dev
  # qemu-x86_64, which runs the AVX2-only-machine test (test/E2E/
  # avx2-only-cpu.test) as a Zen 3 on any x86-64 machine.
  qemu-user
  # The Python API's tests (python/, test/python) and its offline install
  # (pip install --no-build-isolation ./python in a venv, docs/python.md).
  python3-numpy python3-pytest python3-venv python3-pip python3-setuptools
)

# The tests run Debian's python3, for which the packages above are installed
# (a pyenv or virtualenv python3 earlier on PATH would lack numpy and pytest).
PYTHON=/usr/bin/python3

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
    grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO=sudo
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
else
  log "Debian packages already installed"
fi

log "configuring $BUILD_DIR"
if [[ -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  # Keep the existing configuration (changing compilers would wipe it);
  # only the tests' interpreter is set again.
  cmake "$BUILD_DIR" -DPython3_EXECUTABLE="$PYTHON" >/dev/null
else
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="$LLVM_ROOT/bin/clang" \
    -DCMAKE_CXX_COMPILER="$LLVM_ROOT/bin/clang++" \
    -DMLIR_DIR="$LLVM_ROOT/lib/cmake/mlir" \
    -DPython3_EXECUTABLE="$PYTHON" \
    -DLLVM_EXTERNAL_LIT="$LLVM_ROOT/bin/lit" >/dev/null
fi

log "building (this takes a few minutes on 2 cores)"
start=$SECONDS
cmake --build "$BUILD_DIR"
log "built in $((SECONDS - start)) s; tools are in $BUILD_DIR/bin"
