#!/usr/bin/env bash
# Sets up and builds vitc, compiles ViT-B/16 (random weights) for this CPU
# and classifies an image with it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
BIN=${BUILD_DIR:-$ROOT/build}/bin
WORK=${WORK:-$ROOT/build/quickstart}
mkdir -p "$WORK"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "ViT-B/16"
"$BIN/vitc" --model vit-b16 --summary | tail -n 2

step "Random weights (seed 0) as safetensors"
"$BIN/vitc" --model vit-b16 --random-weights --seed 0 \
  --save-weights "$WORK/vit_b16.safetensors"

step "Compile for this CPU"
"$BIN/vitc" --model vit-b16 --weights "$WORK/vit_b16.safetensors" \
  --target cpu -o "$WORK/vit_b16.vitb"

step "Classify an image"
# A 224x224 test pattern, written as PNG with the Python standard library.
python3 - "$WORK/pattern.png" <<'PY'
import struct, sys, zlib
w = h = 224
rows = b"".join(b"\0" + bytes(v for x in range(w)
                              for v in (x, y, (x * y) % 256))
                for y in range(h))
def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
open(sys.argv[1], "wb").write(png)
PY
"$BIN/vit-run" "$WORK/vit_b16.vitb" --input "$WORK/pattern.png" --topk 5

step "Latency"
"$BIN/vit-run" "$WORK/vit_b16.vitb" --random-input --benchmark \
  --warmup 2 --iterations 10

cat <<'MSG'

The weights are random, so the classes above are arbitrary. Use real
weights with --weights <file>.safetensors (timm or Hugging Face names).
MSG
