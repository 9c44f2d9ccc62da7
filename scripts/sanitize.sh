#!/usr/bin/env bash
# The runtime under sanitizers (docs/robustness.md), in two runtime-only
# builds:
#   - ASan + UBSan: vitrt, vit-run, the CUDA emulator and all their tests,
#     including vit-run end to end on models that vitc compiles (CPU with
#     random, .npy and PNG input, a corrupt artifact, the fuzzers' regression
#     inputs, a CUDA artifact on the emulator) and sessions on threads;
#   - ThreadSanitizer: sessions on several threads (RuntimeThreadsTests) and
#     the tile scheduler (ThreadPoolTests).
#
#   scripts/sanitize.sh
#
# Environment:
#   VITC            compiles the test models (default: build/bin/vitc, the
#                   main build's)
#   ASAN_BUILD_DIR  default: build-asan
#   TSAN_BUILD_DIR  default: build-tsan
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VITC=${VITC:-$ROOT/build/bin/vitc}
ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-$ROOT/build-asan}
TSAN_BUILD_DIR=${TSAN_BUILD_DIR:-$ROOT/build-tsan}
LLVM_ROOT=/usr/lib/llvm-22

log() { printf '\033[1m[sanitize]\033[0m %s\n' "$*"; }

[[ -x $VITC ]] || {
  echo "sanitize.sh: $VITC not found; build the compiler first" \
    "(scripts/setup.sh) or set VITC" >&2
  exit 1
}

configure() { # BUILD_DIR SANITIZERS
  cmake -S "$ROOT" -B "$1" -G Ninja -DVITC_BUILD_COMPILER=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVITC_SANITIZE="$2" \
    -DVITC_TEST_COMPILER="$VITC" \
    -DCMAKE_C_COMPILER="$LLVM_ROOT/bin/clang" \
    -DCMAKE_CXX_COMPILER="$LLVM_ROOT/bin/clang++" >/dev/null
}

# Reports name their stack; the sanitizers stop at the first (the build
# uses -fno-sanitize-recover=all, TSan fails the test at exit).
export UBSAN_OPTIONS=print_stacktrace=1
# The runtime reports an allocation it cannot make (RuntimeTests asks for
# more memory than any machine has); ASan would abort at the request.
export ASAN_OPTIONS=allocator_may_return_null=1

log "ASan + UBSan build in $ASAN_BUILD_DIR"
configure "$ASAN_BUILD_DIR" address,undefined
cmake --build "$ASAN_BUILD_DIR"
ctest --test-dir "$ASAN_BUILD_DIR" --output-on-failure -j2

log "ThreadSanitizer build in $TSAN_BUILD_DIR"
configure "$TSAN_BUILD_DIR" thread
cmake --build "$TSAN_BUILD_DIR" --target RuntimeThreadsTests ThreadPoolTests
# The fixture that compiles the model runs first, by itself.
ctest --test-dir "$TSAN_BUILD_DIR" --output-on-failure -R '^(SessionThreads|ThreadPool)\.'
log "no sanitizer reports"
