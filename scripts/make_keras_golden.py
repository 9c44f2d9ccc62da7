#!/usr/bin/env python3
"""Regenerates the vitc.keras golden, test/python/Inputs/keras_golden/.

Builds a small ViT the way the Keras article builds it
(keras_article_vit.py: image 32, patch 8, width 32, depth 2, 2 heads, MLP
64, 10 classes, query/key/value bias on, batch 2), draws its weights and
two images from NumPy's generator (seed 1), exports it with vitc.keras
and writes, next to the exported model.safetensors and config.json, the
images (input.npy, NHWC) and TensorFlow's logits for them (logits.npy,
model(x) in fp32) and provenance.json (versions and arguments).
python/tests/test_keras_golden.py compiles the folder with vitc and
compares with logits.npy, without TensorFlow.

Needs the TensorFlow virtualenv of scripts/check_keras_export.sh:

  scripts/check_keras_export.sh --venv-only
  build/keras-venv/bin/python scripts/make_keras_golden.py [OUT_DIR]

The weights and images are the same bytes on every machine (NumPy's
PCG64 and float64 -> float32 rounding); the logits may differ from the
committed ones in the last bits with another TensorFlow or CPU, far below
the test's bound.
"""

import json
import os
import pathlib
import platform
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "scripts"))

import keras_article_vit as article  # noqa: E402
import tf_keras  # noqa: E402
import vitc.keras  # noqa: E402

SEED = 1
ARGS = dict(image_size=32, patch_size=8, channels=3, width=32, depth=2,
            heads=2, mlp_dim=64, classes=10, batch=2, qkv_bias=True)


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                       ROOT / "test" / "python" / "Inputs" / "keras_golden")
    model, position = article.build(
        class_token=article.random_class_token(ARGS["width"], SEED), **ARGS)
    article.randomize(model, position, SEED)
    images = article.random_images(
        (ARGS["batch"], ARGS["image_size"], ARGS["image_size"],
         ARGS["channels"]), SEED)
    logits = model(images, training=False).numpy()
    config = vitc.keras.export(model, out, name="keras-golden")
    np.save(out / "input.npy", images)
    np.save(out / "logits.npy", logits)
    provenance = {
        "made_by": "scripts/make_keras_golden.py",
        "builder": "scripts/keras_article_vit.py",
        "builder_arguments": ARGS,
        "seed": SEED,
        "keras_params": int(model.count_params()),
        "tensorflow": tf.__version__,
        "tf_keras": tf_keras.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    (out / "provenance.json").write_text(json.dumps(provenance, indent=2) +
                                         "\n")
    print("wrote %s: %s; logits %s, max |logit| %.3f" % (
        out, ", ".join(sorted(p.name for p in out.iterdir())),
        list(logits.shape), float(np.max(np.abs(logits)))))
    print("config: %s" % json.dumps(config))


if __name__ == "__main__":
    main()
