#!/usr/bin/env bash
# The GPU check: run it whenever a machine with an NVIDIA GPU is at hand.
# In one run it builds vitc, compiles ViT-B/16 (random weights) for the card
# (in every precision: fp32, and tf32, bf16 and fp16 on tensor cores) and for the
# CPU, checks the GPU logits against the CPU artifact and against
# timm/PyTorch on the same weights and inputs (fp32, or torch.autocast in the
# 16-bit precisions), and benchmarks vit-run against PyTorch eager (SDPA
# attention) and torch.compile at the same batch and precision. See
# docs/benchmarks.md.
# Small configurations also run through the CUDA driver emulator, so that the
# card's logits, the emulator's and the CPU's are compared in one table
# (docs/cuda-emulator.md).
#
#   scripts/gpu_check.sh
#   BATCHES="1 8 64" PRECISIONS="fp32 tf32 bf16 fp16" COMPILE_MODE=max-autotune \
#     ITERATIONS=100 WARMUP=10 BOUND=1e-3 GPU=0 scripts/gpu_check.sh
#
# PyTorch and timm come from a venv in $BUILD_DIR/gpu-venv that also sees the
# system's packages, so a machine with torch preinstalled needs no download.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BIN=$BUILD_DIR/bin
WORK=${WORK:-$BUILD_DIR/gpu-check}
VENV=${VENV:-$BUILD_DIR/gpu-venv}
BATCHES=${BATCHES:-1 8 64}
PRECISIONS=${PRECISIONS:-fp32 tf32 bf16 fp16}
COMPILE_MODE=${COMPILE_MODE:-max-autotune}
WARMUP=${WARMUP:-10}
ITERATIONS=${ITERATIONS:-100}
BOUND=${BOUND:-1e-3}
GPU=${GPU:-0}
# Number GPUs as nvidia-smi does and show only the chosen one to vit-run
# (the CUDA driver honours both variables) and to PyTorch: both use device 0.
export CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=$GPU

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() {
  echo "gpu_check: error: $*" >&2
  exit 1
}

# Fail before the long build when there is no GPU to check.
command -v nvidia-smi >/dev/null ||
  die "nvidia-smi not found: this script needs an NVIDIA GPU and its driver"
query() { nvidia-smi --query-gpu="$1" --format=csv,noheader -i "$GPU"; }
CARD=$(query name) || die "nvidia-smi cannot query GPU $GPU (is the driver loaded?)"
CAP=$(query compute_cap) ||
  die "nvidia-smi has no compute_cap query (driver too old; needs R510+)"
SM=sm_${CAP//./}
[[ $SM =~ ^sm_[0-9]+$ ]] || die "unexpected compute capability '$CAP'"
echo "GPU $GPU: $CARD, compute capability $CAP -> --target cuda:$SM"

step "Build (scripts/setup.sh)"
"$ROOT/scripts/setup.sh"

step "Python: numpy, torch, timm in $VENV"
[[ -x $VENV/bin/python ]] || python3 -m venv --system-site-packages "$VENV" ||
  die "cannot create a venv (Debian: apt-get install python3-venv)"
PY=$VENV/bin/python
if ! "$PY" -c 'import numpy, torch, timm, safetensors' 2>/dev/null; then
  "$PY" -m pip install --quiet numpy torch timm safetensors ||
    die "pip install numpy torch timm safetensors failed (no network?)"
fi
"$PY" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())' ||
  die "PyTorch in $VENV sees no CUDA device (CPU-only wheel?)"

# Artifact and output names: gpu_bB for fp32, gpu_bf16_bB for bf16, ...
tag() { [[ $1 == fp32 ]] || echo "_$1"; }

step "Compile ViT-B/16 for cuda:$SM (${PRECISIONS// /, }) and cpu, batch ${BATCHES// /, }"
mkdir -p "$WORK"
WEIGHTS=$WORK/vit_b16.safetensors
# One weight file for every artifact and for PyTorch.
"$BIN/vitc" --model vit-b16 --random-weights --seed 0 \
  --save-weights "$WEIGHTS" --summary >/dev/null
for B in $BATCHES; do
  LOG=$WORK/vitc_cpu_b$B.log
  "$BIN/vitc" --model vit-b16 --weights "$WEIGHTS" --batch "$B" \
    -o "$WORK/cpu_b$B.vitb" --timing >"$LOG" 2>&1 ||
    die "vitc --target cpu --batch $B failed; see $LOG"
  grep -E '^vitc: wrote' "$LOG" || true
  for P in $PRECISIONS; do
    NAME=gpu$(tag "$P")_b$B
    LOG=$WORK/vitc_$NAME.log
    "$BIN/vitc" --model vit-b16 --weights "$WEIGHTS" --batch "$B" \
      --target "cuda:$SM" --precision "$P" -o "$WORK/$NAME.vitb" --timing \
      >"$LOG" 2>&1 ||
      die "vitc --target cuda:$SM --precision $P --batch $B failed; see $LOG"
    grep -E '^vitc: wrote' "$LOG" || true
  done
done

step "Run the artifacts on the same input; benchmark the GPU ones"
for B in $BATCHES; do
  # The CPU run draws the input and saves it for the GPU runs and PyTorch.
  "$BIN/vit-run" "$WORK/cpu_b$B.vitb" --random-input --seed 1 --topk 1 \
    --save-input "$WORK/input_b$B.npy" --output "$WORK/cpu_b$B.npy" >/dev/null
  for P in $PRECISIONS; do
    T=$(tag "$P")
    GPU_ARTIFACT=$WORK/gpu${T}_b$B.vitb
    "$BIN/vit-run" "$GPU_ARTIFACT" --input "$WORK/input_b$B.npy" \
      --topk 1 --output "$WORK/gpu${T}_b$B.npy" >/dev/null ||
      die "vit-run cannot run the GPU artifact $GPU_ARTIFACT (error above)"
    # Progress lines go to stderr; keep them with any error.
    "$BIN/vit-run" "$GPU_ARTIFACT" --benchmark --warmup "$WARMUP" \
      --iterations "$ITERATIONS" --topk 1 \
      >"$WORK/bench${T}_b$B.txt" 2>"$WORK/bench${T}_b$B.err" ||
      die "vit-run --benchmark failed on $GPU_ARTIFACT; see $WORK/bench${T}_b$B.err"
    grep -E 'latency p50|throughput' "$WORK/bench${T}_b$B.txt" |
      sed "s/^/batch $B, $P: /"
  done
done

step "Numerics against the CPU artifact and PyTorch; benchmark PyTorch"
for P in $PRECISIONS; do
  # shellcheck disable=SC2086 # BATCHES is a list
  "$PY" "$ROOT/benchmarks/torch_compare.py" \
    --weights "$WEIGHTS" --workdir "$WORK" --batch $BATCHES --card "$CARD" \
    --warmup "$WARMUP" --iterations "$ITERATIONS" --bound "$BOUND" \
    --precision "$P" --compile-mode "$COMPILE_MODE"
done

step "Small configurations: the card, the driver emulator and the CPU"
EMULATOR=$BUILD_DIR/lib/libcuda-emulator.so
COMPARE=$ROOT/test/E2E/Inputs/compare_npy.py
relative() { python3 "$COMPARE" "$1" "$2" | sed -n 's/^max relative error: \([^ ]*\).*/\1/p'; }
relative_l2() { python3 "$COMPARE" "$1" "$2" --l2-bound 1e9 | sed -n 's/^relative L2 error: \([^ ]*\).*/\1/p'; }
# fp32: max relative error; bf16 (tensor cores): relative L2 error.
printf '%-34s %12s %12s %12s %14s %14s\n' config "card vs cpu" "emu vs cpu" \
  "card vs emu" "bf16 card/cpu" "bf16 card/emu"
# The end-to-end test configurations: layouts, qkv bias, GELU forms, an odd
# patch grid, Hugging Face names, batch 1 and 3.
while read -r NAME FLAGS; do
  for TARGET in "cuda:$SM" cpu; do
    # shellcheck disable=SC2086 # FLAGS is a list of options
    "$BIN/vitc" --model vit-ti16 --random-weights --seed 3 $FLAGS \
      --target "$TARGET" -o "$WORK/small_${NAME}_${TARGET%%:*}.vitb" \
      >/dev/null 2>&1 || die "vitc $FLAGS --target $TARGET failed"
  done
  # shellcheck disable=SC2086 # FLAGS is a list of options
  "$BIN/vitc" --model vit-ti16 --random-weights --seed 3 $FLAGS \
    --target "cuda:$SM" --precision bf16 -o "$WORK/small_${NAME}_bf16.vitb" \
    >/dev/null 2>&1 || die "vitc $FLAGS --target cuda:$SM --precision bf16 failed"
  "$BIN/vit-run" "$WORK/small_${NAME}_cpu.vitb" --random-input --seed 2 \
    --save-input "$WORK/small_${NAME}_input.npy" \
    --output "$WORK/small_${NAME}_cpu.npy" >/dev/null
  "$BIN/vit-run" "$WORK/small_${NAME}_cuda.vitb" \
    --input "$WORK/small_${NAME}_input.npy" \
    --output "$WORK/small_${NAME}_card.npy" >/dev/null
  VITRT_CUDA_DRIVER=$EMULATOR VITC_EMULATOR_SM=${SM#sm_} \
    "$BIN/vit-run" "$WORK/small_${NAME}_cuda.vitb" \
    --input "$WORK/small_${NAME}_input.npy" \
    --output "$WORK/small_${NAME}_emu.npy" >/dev/null
  "$BIN/vit-run" "$WORK/small_${NAME}_bf16.vitb" \
    --input "$WORK/small_${NAME}_input.npy" \
    --output "$WORK/small_${NAME}_bf16_card.npy" >/dev/null
  VITRT_CUDA_DRIVER=$EMULATOR VITC_EMULATOR_SM=${SM#sm_} \
    "$BIN/vit-run" "$WORK/small_${NAME}_bf16.vitb" \
    --input "$WORK/small_${NAME}_input.npy" \
    --output "$WORK/small_${NAME}_bf16_emu.npy" >/dev/null
  printf '%-34s %12s %12s %12s %14s %14s\n' "$NAME" \
    "$(relative "$WORK/small_${NAME}_card.npy" "$WORK/small_${NAME}_cpu.npy")" \
    "$(relative "$WORK/small_${NAME}_emu.npy" "$WORK/small_${NAME}_cpu.npy")" \
    "$(relative "$WORK/small_${NAME}_card.npy" "$WORK/small_${NAME}_emu.npy")" \
    "$(relative_l2 "$WORK/small_${NAME}_bf16_card.npy" "$WORK/small_${NAME}_cpu.npy")" \
    "$(relative_l2 "$WORK/small_${NAME}_bf16_card.npy" "$WORK/small_${NAME}_bf16_emu.npy")"
done <<'CONFIGS'
nchw_batch1 --depth 2 --image-size 48 --num-classes 10
nchw_batch3 --depth 2 --image-size 48 --num-classes 10 --batch 3
nhwc_hwio_no_qkv_bias_batch3 --depth 2 --image-size 48 --num-classes 10 --batch 3 --input-layout nhwc --kernel-layout hwio --qkv-bias=false
tanh_gelu_patch8_odd_grid --depth 2 --image-size 40 --patch-size 8 --num-classes 10 --gelu tanh
hugging_face_names --depth 2 --image-size 48 --num-classes 10 --weight-names hf
CONFIGS
