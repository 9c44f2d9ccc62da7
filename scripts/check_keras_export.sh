#!/usr/bin/env bash
# Checks vitc.keras (the Keras export, docs/keras.md) against TensorFlow, on
# demand: builds ViTs the way the Keras article builds them (ViT-B/16 and
# smaller variants) in tf_keras, exports them, compiles the folders with
# vitc, runs them with vit-run and compares with the Keras models' own
# logits; then the tampered exports and models that must fail, and the
# model-file routes (scripts/check_keras_export.py says what each check is).
#
#   scripts/check_keras_export.sh [--quick] [--keep]   all checks (--quick:
#                                                      without ViT-B/16)
#   scripts/check_keras_export.sh --venv-only          only make the venv
#
# Needs a built vitc and vit-run (scripts/setup.sh). TensorFlow lives in its
# own virtualenv, build/keras-venv (tensorflow-cpu, tf_keras, h5py, from
# PyPI, about 1.6 GB), made on the first run; nothing else in the project
# uses it, and the project's test command does not run this: it needs no
# TensorFlow (python/tests/test_keras_golden.py checks a committed export).
# Exits non-zero if any check fails.
#
# Environment: BUILD_DIR (default build), VENV (default
# $BUILD_DIR/keras-venv).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
VENV=${VENV:-$BUILD_DIR/keras-venv}
export BUILD_DIR

if ! "$VENV/bin/python" -c 'import tensorflow, tf_keras, h5py, numpy' \
    2>/dev/null; then
  echo "== TensorFlow virtualenv in $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet tensorflow-cpu tf_keras h5py numpy
fi
if [[ ${1:-} == --venv-only ]]; then
  exit 0
fi

for tool in vitc vit-run; do
  [[ -x $BUILD_DIR/bin/$tool ]] ||
    { echo "error: $BUILD_DIR/bin/$tool not built" >&2; exit 1; }
done

# TensorFlow's start-up lines (oneDNN, CUDA stubs, absl) go to stderr;
# the checks print to stdout.
TF_CPP_MIN_LOG_LEVEL=2 PYTHONDONTWRITEBYTECODE=1 \
  "$VENV/bin/python" "$ROOT/scripts/check_keras_export.py" "$@" 2> \
  >(grep -v '^I0000\|^E0000\|^WARNING: All log\|^W0000\|rebuild TensorFlow with\|Variables were used in a Lambda\|saving_api.save_model\|UserWarning: You are saving\|compiled metrics have yet\|No training configuration' >&2 || true)
