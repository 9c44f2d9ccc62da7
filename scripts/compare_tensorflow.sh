#!/usr/bin/env bash
# Compares vitc with TensorFlow on ViT-B/16 (the Keras construction) with
# random weights: TensorFlow makes the weights, the images and the logits
# (scripts/tf_reference.py), vitc compiles the weights, vit-run runs the
# images, and compare_npy.py prints the max relative error against
# TensorFlow's fp32 logits and against the same Keras model run in float64.
#
#   scripts/compare_tensorflow.sh [extra flags for vitc and tf_reference.py]
#
# e.g. `scripts/compare_tensorflow.sh --depth 2` for a shallower model. Needs a
# built vitc and vit-run (scripts/setup.sh). TensorFlow lives in its own
# virtualenv, build/tf-venv, made on the first run (pip install tensorflow-cpu
# numpy: about 1.6 GB); nothing else in the project uses it.
#
# Environment: BUILD_DIR (default build), WORK (default $BUILD_DIR/tf-compare),
# VENV (default $BUILD_DIR/tf-venv), BATCH (default 2), SEED (weights and
# images, default 0), THREADS (vit-run --threads, default 0: all), TARGET
# (vitc --target, default cpu).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BIN=$BUILD_DIR/bin
WORK=${WORK:-$BUILD_DIR/tf-compare}
VENV=${VENV:-$BUILD_DIR/tf-venv}
BATCH=${BATCH:-2}
SEED=${SEED:-0}
THREADS=${THREADS:-0}
TARGET=${TARGET:-cpu}
MODEL=vit-b16-keras

step() { printf '\n== %s\n' "$*"; }

for tool in vitc vit-run; do
  [[ -x $BIN/$tool ]] || { echo "error: $BIN/$tool not built" >&2; exit 1; }
done

if ! "$VENV/bin/python" -c 'import tensorflow, numpy' 2>/dev/null; then
  step "TensorFlow virtualenv in $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet tensorflow-cpu numpy
fi
mkdir -p "$WORK"

step "TensorFlow: random $MODEL weights (seed $SEED), images, logits"
TF_CPP_MIN_LOG_LEVEL=2 "$VENV/bin/python" "$ROOT/scripts/tf_reference.py" \
  --model "$MODEL" "$@" --random-weights --seed "$SEED" \
  --batch "$BATCH" --input-seed "$SEED" \
  --save-weights "$WORK/weights.safetensors" --save-input "$WORK/input.npy" \
  --output "$WORK/tf.npy" --float64-output "$WORK/tf-f64.npy" \
  --describe "$WORK/config.json" 2>&1 |
  { grep -v '^I0000\|^WARNING: All log' || true; }

step "vitc: compile for $TARGET"
"$BIN/vitc" --model "$MODEL" "$@" --batch "$BATCH" --target "$TARGET" \
  --weights "$WORK/weights.safetensors" -o "$WORK/model.vitb"

step "vit-run"
"$BIN/vit-run" "$WORK/model.vitb" --input "$WORK/input.npy" --topk 1 \
  --threads "$THREADS" --output "$WORK/vitc.npy"

status=0
step "vitc vs TensorFlow fp32"
python3 "$ROOT/test/E2E/Inputs/compare_npy.py" "$WORK/vitc.npy" \
  "$WORK/tf.npy" || status=1
step "vitc vs TensorFlow float64"
python3 "$ROOT/test/E2E/Inputs/compare_npy.py" "$WORK/vitc.npy" \
  "$WORK/tf-f64.npy" || status=1
exit $status
