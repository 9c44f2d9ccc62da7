#!/usr/bin/env bash
# vit-run on models compiled by vitc, for the runtime-only build's CTest
# (unittests/Runtime/CMakeLists.txt): in the sanitized builds of .ci/run
# these are the end-to-end runs under ASan and UBSan (docs/robustness.md).
#
#   compiled-models.sh CASE DIR VITC VIT_RUN CUDA_EMULATOR SOURCE_DIR
#
# CASE is `setup` (compile the artifacts and inputs into DIR) or one run:
# random, npy, png, corrupt, cuda-emulator, fuzz-regressions. Exit status
# 77 skips a case (no CUDA artifact without ptxas).
set -euo pipefail
case=$1 dir=$2 vitc=$3 vitrun=$4 emulator=$5 source=$6
inputs=$source/test/tools/vit-run/Inputs
regressions=$source/test/fuzz-regressions
out=$dir/$case
tiny=(--model vit-ti16 --depth 1 --image-size 32 --random-weights)

fail() {
  echo "compiled-models.sh $case: $*" >&2
  exit 1
}

# Expects vit-run to succeed, or, with ALLOWED=refuse or ALLOWED=either, to
# refuse: exit status 1 and one line on stderr, the error, as any refusal
# must be (a sanitizer report is more lines, and another status).
runs() { # LOG vit-run-arguments...
  local log=$1 status=0
  shift
  "$vitrun" "$@" >/dev/null 2>"$log" || status=$?
  case $status:${ALLOWED:-succeed} in
  0:succeed | 0:either) return ;;
  1:refuse | 1:either) ;;
  *) fail "vit-run $* exited with $status: $(cat "$log")" ;;
  esac
  [[ $(wc -l <"$log") -eq 1 && $(head -c 16 "$log") == "vit-run: error: " ]] ||
    fail "vit-run $* did not fail with one error line: $(cat "$log")"
}

case $case in
setup)
  rm -rf "$dir" && mkdir -p "$dir"
  "$vitc" "${tiny[@]}" -o "$dir/m.vitb" >/dev/null
  # CUDA artifacts need ptxas; without it the cuda-emulator case is skipped.
  "$vitc" "${tiny[@]}" --target cuda:sm_90 -o "$dir/cuda.vitb" \
    >/dev/null 2>&1 || rm -f "$dir/cuda.vitb"
  python3 "$inputs/tensors.py" png "$dir/gradient.png" 45 37 gradient
  python3 "$inputs/flip_bit.py" code "$dir/m.vitb" "$dir/corrupt.vitb"
  ;;
random)
  "$vitrun" "$dir/m.vitb" --threads 2 --benchmark --warmup 1 \
    --iterations 5 >"$out.txt"
  grep -q "#1" "$out.txt" || fail "no top-1 line"
  ;;
npy)
  # The same input from a .npy file gives the same logits, bit for bit.
  "$vitrun" "$dir/m.vitb" --seed 7 --save-input "$out-input.npy" \
    --output "$out-random.npy" >/dev/null
  "$vitrun" "$dir/m.vitb" --input "$out-input.npy" --threads 3 \
    --output "$out-logits.npy" >/dev/null
  cmp "$out-random.npy" "$out-logits.npy"
  ;;
png)
  "$vitrun" "$dir/m.vitb" --input "$dir/gradient.png" >"$out.txt"
  grep -q "45x37 resized to 32x32" "$out.txt" || fail "no image line"
  ;;
corrupt)
  ALLOWED=refuse runs "$out.log" "$dir/corrupt.vitb"
  grep -q "kernel module 0 (x86_64) does not match its checksum" "$out.log" ||
    fail "unexpected error: $(cat "$out.log")"
  ;;
cuda-emulator)
  [[ -f $dir/cuda.vitb ]] || exit 77
  # The emulator keeps its state for the whole process; once vitrt has
  # closed the library, LeakSanitizer cannot see it and would call it lost.
  ASAN_OPTIONS=detect_leaks=0 VITRT_CUDA_DRIVER=$emulator \
    "$vitrun" "$dir/cuda.vitb" >"$out.txt"
  grep -q "#1" "$out.txt" || fail "no top-1 line"
  ;;
fuzz-regressions)
  # Every input that once crashed a fuzzer, through the real tool. The
  # artifacts are all invalid: a mutated plan must not run.
  for file in "$regressions"/artifact*/*; do
    ALLOWED=refuse runs "$out.log" "$file"
  done
  for file in "$regressions"/npy/* "$regressions"/image/*; do
    # vit-run picks the reader by extension; the copy keeps the bytes.
    extension=npy
    [[ $file == */image/* ]] && extension=png
    cp "$file" "$out-input.$extension"
    ALLOWED=either runs "$out.log" "$dir/m.vitb" --input "$out-input.$extension"
  done
  ;;
*)
  fail "unknown case"
  ;;
esac
