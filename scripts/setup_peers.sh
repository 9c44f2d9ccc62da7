#!/usr/bin/env bash
# Sets up the Python environment of the CPU peers benchmark
# (benchmarks/peers.py: vitc against ONNX Runtime and OpenVINO) in one
# command, and says how to run it. See docs/benchmarks.md.
#
#   scripts/setup_peers.sh                  set up, print the run command
#   scripts/setup_peers.sh --run [OPTIONS]  set up, then run the benchmark
#                                           (OPTIONS go to peers.py)
#   VENV=/some/where scripts/setup_peers.sh
#
# It creates $BUILD_DIR/peers-venv (a plain venv, no system packages) and
# installs numpy, onnx, onnxruntime, openvino and matplotlib from PyPI.
# Safe to run again: an existing venv that has the packages is used as it is.
# vitc itself is built by scripts/setup.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
VENV=${VENV:-$BUILD_DIR/peers-venv}
PACKAGES=(numpy onnx onnxruntime openvino matplotlib)

log() { printf '\033[1m[setup_peers]\033[0m %s\n' "$*"; }
die() {
  echo "setup_peers: error: $*" >&2
  exit 1
}

command -v python3 >/dev/null || die "python3 not found (Debian: apt-get install python3)"
if [[ ! -x $VENV/bin/python ]]; then
  log "creating $VENV"
  python3 -m venv "$VENV" ||
    die "cannot create a venv in $VENV (Debian: apt-get install python3-venv)"
fi
PY=$VENV/bin/python

if "$PY" -c 'import matplotlib, numpy, onnx, onnxruntime, openvino' 2>/dev/null; then
  log "${PACKAGES[*]} already installed in $VENV"
else
  log "installing ${PACKAGES[*]} into $VENV"
  "$PY" -m pip install --quiet --upgrade pip ||
    die "pip cannot upgrade itself (no network?)"
  "$PY" -m pip install --quiet "${PACKAGES[@]}" ||
    die "pip install ${PACKAGES[*]} failed (no network, or no wheel for this Python?)"
fi
"$PY" - <<'EOF' || die "the packages are installed but do not import (see above)"
import matplotlib, numpy, onnx, onnxruntime, openvino
print(f"numpy {numpy.__version__}, onnx {onnx.__version__}, "
      f"onnxruntime {onnxruntime.__version__}, "
      f"openvino {openvino.get_version()}, matplotlib {matplotlib.__version__}")
EOF

if [[ ${1:-} == --run ]]; then
  shift
  log "running benchmarks/peers.py $*"
  exec "$PY" "$ROOT/benchmarks/peers.py" "$@"
fi
[[ -x $BUILD_DIR/bin/vitc ]] ||
  log "note: $BUILD_DIR/bin/vitc is missing; build vitc first with scripts/setup.sh"
log "done. Run the benchmark with:"
echo "    $PY $ROOT/benchmarks/peers.py"
echo "  or, for a quick check (one encoder block, batch 1, one thread):"
echo "    $PY $ROOT/benchmarks/peers.py --depth 1 --batch 1 --threads 1 --iterations 3 --chart none"
