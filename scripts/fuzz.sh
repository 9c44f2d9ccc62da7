#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ with ASan and UBSan, writes their
# seed inputs and runs each for a bounded time (docs/robustness.md).
#
#   scripts/fuzz.sh [SECONDS]     SECONDS per harness, default 60
#
# Environment:
#   FUZZ_BUILD_DIR  build directory (default: build-fuzz), runtime-only
#   VITC            the vitc that compiles the seed artifacts and weights
#                   (default: build/bin/vitc, the main build's)
#   FUZZERS         harnesses to run (default: all that were built), e.g.
#                   "npy image"
#
# The corpus of each harness grows in $FUZZ_BUILD_DIR/fuzz/corpus/<harness>
# and is reused by the next run. An input that crashes a harness (or fails
# one of its checks) is kept in $FUZZ_BUILD_DIR/fuzz/crashes/<harness>/ and
# makes the script fail, this run and the next ones, until it is removed;
# once fixed, it belongs in test/fuzz-regressions/<harness>/, which the
# script replays first. Needs clang 22 with its sanitizer runtimes (scripts/setup.sh
# installs them: libclang-rt-22-dev).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_PER_HARNESS=${1:-60}
BUILD_DIR=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
VITC=${VITC:-$ROOT/build/bin/vitc}
LLVM_ROOT=/usr/lib/llvm-22

log() { printf '\033[1m[fuzz]\033[0m %s\n' "$*"; }

if [[ ! $SECONDS_PER_HARNESS =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS]" >&2
  exit 2
fi

log "building the harnesses in $BUILD_DIR"
if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DVITC_BUILD_COMPILER=OFF \
    -DVITC_BUILD_FUZZERS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER="$LLVM_ROOT/bin/clang" \
    -DCMAKE_CXX_COMPILER="$LLVM_ROOT/bin/clang++" >/dev/null
fi
cmake --build "$BUILD_DIR" --target fuzzers
log "replaying the inputs that once crashed a harness (test/fuzz-regressions)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -R '^fuzz-regressions-'

SEEDS=$BUILD_DIR/fuzz/seeds
CORPUS=$BUILD_DIR/fuzz/corpus
CRASHES=$BUILD_DIR/fuzz/crashes
LOGS=$BUILD_DIR/fuzz/logs
mkdir -p "$SEEDS/artifact" "$SEEDS/safetensors" "$CORPUS" "$CRASHES" "$LOGS"

# Tiny models (a few KiB of weights) keep the artifacts small, so that the
# mutations land in the tables rather than in megabytes of weights.
TINY=(--model vit-ti16 --depth 1 --image-size 16 --patch-size 8
  --hidden-size 16 --num-heads 2 --mlp-dim 32 --num-classes 10
  --random-weights)
seed_artifact() { # NAME [vitc options...]
  local name=$1
  shift
  "$VITC" "${TINY[@]}" "$@" -o "$SEEDS/artifact/$name.vitb" \
    >"$LOGS/vitc-$name.log" 2>&1 ||
    log "warning: no $name seed artifact (vitc failed: $LOGS/vitc-$name.log)"
}
if [[ -x $VITC ]]; then
  log "compiling seed artifacts and weights with $VITC"
  seed_artifact cpu --save-weights "$SEEDS/safetensors/timm.safetensors"
  seed_artifact cpu-nhwc-batch2 --input-layout nhwc --batch 2 --gelu tanh \
    --weight-names hf --save-weights "$SEEDS/safetensors/hf.safetensors"
  # Refused by a CPU without AVX-512: the CPU-feature check.
  seed_artifact cpu-x86-64-v4 --target cpu:x86-64-v4
  # CUDA artifacts need ptxas; without it these seeds are left out.
  seed_artifact cuda-sm90 --target cuda:sm_90
  seed_artifact cuda-sm90-bf16 --target cuda:sm_90 --precision bf16
else
  log "warning: $VITC not found: no seed artifacts or vitc-written weights"
fi

# Every harness that was built; artifact-resealed shares artifact's seeds.
if [[ -z ${FUZZERS:-} ]]; then
  FUZZERS=""
  for binary in "$BUILD_DIR"/bin/fuzz-*; do
    name=${binary##*/fuzz-}
    [[ $name == make-seeds ]] || FUZZERS+=" $name"
  done
fi

failed=()
printf '%-20s %12s %10s %8s %8s %8s\n' harness executions exec/s seconds \
  corpus crashes >"$LOGS/summary.txt"
for name in $FUZZERS; do
  seeds=$SEEDS/${name%-resealed}
  mkdir -p "$CORPUS/$name" "$CRASHES/$name"
  log "fuzzing $name for $SECONDS_PER_HARNESS s"
  start=$SECONDS
  # A malloc above 2 GiB returns null instead of aborting, so that the
  # reader's handling of a failed allocation is what is tested (an operator
  # new that fails still counts as a crash); libFuzzer's limits are above.
  status=0
  UBSAN_OPTIONS=print_stacktrace=1 \
    ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=2048 \
    "$BUILD_DIR/bin/fuzz-$name" "$CORPUS/$name" "$seeds" \
    -max_total_time="$SECONDS_PER_HARNESS" -timeout=20 -rss_limit_mb=4096 \
    -malloc_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$CRASHES/$name/" >"$LOGS/$name.log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' \
    "$LOGS/$name.log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$LOGS/$name.log")
  # Crashes, timeouts, leaks and out-of-memory inputs; slow-unit-* files
  # (over 10 s, under the timeout) are kept but do not fail the run.
  crashes=$(find "$CRASHES/$name" -type f ! -name 'slow-unit-*' | wc -l)
  printf '%-20s %12s %10s %8s %8s %8s\n' "$name" "${executions:-?}" \
    "${rate:-?}" "$((SECONDS - start))" \
    "$(find "$CORPUS/$name" -type f | wc -l)" "$crashes" \
    >>"$LOGS/summary.txt"
  if ((status != 0 || crashes > 0)); then
    failed+=("$name")
    log "$name FAILED (exit $status); log: $LOGS/$name.log"
    grep -a -E -m 5 'ERROR|fuzz check failed|runtime error|Test unit written' \
      "$LOGS/$name.log" || true
  fi
done

cat "$LOGS/summary.txt"
if ((${#failed[@]})); then
  log "crashes in: ${failed[*]}; inputs in $CRASHES/<harness>/"
  exit 1
fi
log "no crashes"
