#!/usr/bin/env python3
"""TensorFlow/Keras reference for vitc's `vit-b16-keras` construction.

Builds ViT the way Keras/TensorFlow does (channels-last input, HWIO patch
kernel, no query/key/value bias), loads or makes weights in vitc's timm
naming, runs the model on seeded random images and writes the images and the
logits as .npy, so that vitc's compiled model can be checked against an
independent implementation (docs/tensorflow-oracle.md).

  tf_reference.py [--model vit-b16-keras] [--image-size N ...]
                  (--weights W.safetensors | --random-weights [--seed N])
                  [--save-weights W.safetensors]
                  [--batch B] [--input-seed N | --input X.npy]
                  [--save-input X.npy] --output LOGITS.npy
                  [--float64-output LOGITS64.npy] [--describe CFG.json]

The model, in tf.keras layers:
  Conv2D(D, kernel=stride=P, 'valid') on [B, S, S, C] -> reshape [B, N, D]
  (patches in row-major (y, x) order) -> prepend the class token, add the
  position embedding -> L pre-norm blocks:
      x += proj(attention(LayerNorm(x)))
      x += Dense(D)(gelu(Dense(H)(LayerNorm(x))))
  -> LayerNorm -> Dense(K) on the class token.
LayerNormalization(epsilon=1e-6); GELU is tf.nn.gelu(approximate=False).
Attention uses three Dense(D, use_bias=False) layers for query, key and value
(separate, not fused, so that splitting timm's fused [3D, D] `attn.qkv.weight`
into q, k, v rows happens here, independently of vitc); head h takes columns
[h*D/heads, (h+1)*D/heads) of each; scores are q k^T / sqrt(D/heads), softmax
over the keys; the heads are concatenated back in order and projected by
Dense(D) with bias.

Weights are read and written as safetensors with vitc's timm names for the
Keras preset: HWIO [P, P, C, D] patch kernel (Keras' own Conv2D layout),
linear weights [out, in] (transposed to Keras' [in, out] kernels on load).
Random weights are drawn in TF (tf.random.stateless_uniform, one stream per
tensor name) with the same ranges as `vitc --random-weights`, but not the same
values. safetensors go through the vitc Python package's numpy-only reader
and writer (python/vitc/_safetensors.py), .npy through numpy.

Needs tensorflow-cpu and numpy, e.g. in a virtualenv kept in the build tree:
  python3 -m venv build/tf-venv
  build/tf-venv/bin/pip install tensorflow-cpu numpy
TensorFlow is used by this script only, never by vitc, its runtime or tests.
"""
import argparse
import json
import math
import os
import sys
import zlib

import numpy as np

# The safetensors reader and writer of the vitc package, from this checkout.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "python"))
from vitc import _safetensors as safetensors  # noqa: E402

# Quiet TF's start-up logging; must be set before the import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402

keras = tf.keras

# vitc presets of the Keras construction (`vitc --list-models`).
PRESETS = {
    "vit-b16-keras": dict(image_size=224, patch_size=16, channels=3,
                          hidden_size=768, depth=12, num_heads=12,
                          mlp_dim=3072, num_classes=1000),
}
LAYER_NORM_EPS = 1e-6
FIELDS = ["image_size", "patch_size", "channels", "hidden_size", "depth",
          "num_heads", "mlp_dim", "num_classes"]


# --- weights in vitc's timm naming ------------------------------------------

def param_specs(cfg):
    """(name, checkpoint shape, kind, fan_in) of every parameter, as vitc's
    getParamSpecs gives them for the Keras construction (timm names)."""
    D, H, P, C = (cfg["hidden_size"], cfg["mlp_dim"], cfg["patch_size"],
                  cfg["channels"])
    T = (cfg["image_size"] // P) ** 2 + 1
    specs = [("patch_embed.proj.weight", [P, P, C, D], "kernel", P * P * C),
             ("patch_embed.proj.bias", [D], "bias", 0),
             ("cls_token", [1, 1, D], "embedding", 0),
             ("pos_embed", [1, T, D], "embedding", 0)]
    for i in range(cfg["depth"]):
        b = "blocks.%d." % i
        specs += [(b + "norm1.weight", [D], "scale", 0),
                  (b + "norm1.bias", [D], "shift", 0),
                  (b + "attn.qkv.weight", [3 * D, D], "kernel", D),
                  (b + "attn.proj.weight", [D, D], "kernel", D),
                  (b + "attn.proj.bias", [D], "bias", 0),
                  (b + "norm2.weight", [D], "scale", 0),
                  (b + "norm2.bias", [D], "shift", 0),
                  (b + "mlp.fc1.weight", [H, D], "kernel", D),
                  (b + "mlp.fc1.bias", [H], "bias", 0),
                  (b + "mlp.fc2.weight", [D, H], "kernel", H),
                  (b + "mlp.fc2.bias", [D], "bias", 0)]
    specs += [("norm.weight", [D], "scale", 0), ("norm.bias", [D], "shift", 0),
              ("head.weight", [cfg["num_classes"], D], "kernel", D),
              ("head.bias", [cfg["num_classes"]], "bias", 0)]
    return specs


def random_weights(cfg, seed):
    """Seeded uniform weights with vitc's ranges (docs/model-config.md):
    kernels +-sqrt(3/fan_in), biases and norm shifts +-0.1, norm scales
    [0.9, 1.1], class token and position embedding +-0.5."""
    weights = {}
    for name, shape, kind, fan_in in param_specs(cfg):
        center, half = {"kernel": (0.0, math.sqrt(3.0 / max(fan_in, 1))),
                        "bias": (0.0, 0.1), "shift": (0.0, 0.1),
                        "scale": (1.0, 0.1), "embedding": (0.0, 0.5)}[kind]
        stream = [seed & 0x7FFFFFFF, zlib.crc32(name.encode()) & 0x7FFFFFFF]
        values = tf.random.stateless_uniform(shape, seed=stream,
                                             minval=center - half,
                                             maxval=center + half)
        weights[name] = values.numpy().astype(np.float32)
    return weights


def check_weights(cfg, weights, path):
    expected = {name: shape for name, shape, _, _ in param_specs(cfg)}
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        sys.exit("%s: missing %s, unexpected %s" % (path, missing, extra))
    for name, shape in expected.items():
        if list(weights[name].shape) != shape:
            sys.exit("%s: tensor '%s' has shape %s, expected %s"
                     % (path, name, list(weights[name].shape), shape))


# --- the Keras model ----------------------------------------------------------

class ClassTokenAndPosition(keras.layers.Layer):
    """Prepends the learned class token and adds the position embedding."""

    def __init__(self, tokens, width, **kwargs):
        super().__init__(**kwargs)
        self.cls = self.add_weight(shape=(1, 1, width), name="cls_token")
        self.pos = self.add_weight(shape=(1, tokens, width), name="pos_embed")

    def call(self, x):
        cls = tf.tile(tf.cast(self.cls, x.dtype), [tf.shape(x)[0], 1, 1])
        return tf.concat([cls, x], axis=1) + tf.cast(self.pos, x.dtype)


class SelfAttention(keras.layers.Layer):
    """Multi-head self-attention from Dense layers."""

    def __init__(self, width, heads, **kwargs):
        super().__init__(**kwargs)
        self.heads, self.head_dim = heads, width // heads
        dense = lambda name, bias: keras.layers.Dense(  # noqa: E731
            width, use_bias=bias, name=name, dtype=self.dtype_policy)
        self.query = dense("query", False)
        self.key = dense("key", False)
        self.value = dense("value", False)
        self.out = dense("out", True)

    def split(self, x):  # [B, T, D] -> [B, heads, T, D/heads]
        b, t = tf.shape(x)[0], tf.shape(x)[1]
        x = tf.reshape(x, [b, t, self.heads, self.head_dim])
        return tf.transpose(x, [0, 2, 1, 3])

    def call(self, x):
        q, k, v = (self.split(f(x)) for f in (self.query, self.key,
                                                self.value))
        scores = tf.matmul(q, k, transpose_b=True)
        scores /= tf.cast(tf.sqrt(float(self.head_dim)), scores.dtype)
        mixed = tf.matmul(tf.nn.softmax(scores, axis=-1), v)
        mixed = tf.transpose(mixed, [0, 2, 1, 3])  # [B, T, heads, D/heads]
        b, t = tf.shape(x)[0], tf.shape(x)[1]
        return self.out(tf.reshape(mixed, [b, t, self.heads * self.head_dim]))


class EncoderBlock(keras.layers.Layer):
    """Pre-norm transformer block with residuals."""

    def __init__(self, width, heads, mlp_dim, **kwargs):
        super().__init__(**kwargs)
        policy = self.dtype_policy
        self.norm1 = keras.layers.LayerNormalization(
            epsilon=LAYER_NORM_EPS, name="norm1", dtype=policy)
        self.attn = SelfAttention(width, heads, name="attn", dtype=policy)
        self.norm2 = keras.layers.LayerNormalization(
            epsilon=LAYER_NORM_EPS, name="norm2", dtype=policy)
        self.fc1 = keras.layers.Dense(mlp_dim, name="fc1", dtype=policy)
        self.fc2 = keras.layers.Dense(width, name="fc2", dtype=policy)

    def call(self, x):
        x = x + self.attn(self.norm1(x))
        hidden = tf.nn.gelu(self.fc1(self.norm2(x)), approximate=False)
        return x + self.fc2(hidden)


def build_model(cfg, dtype):
    S, P, C, D = (cfg["image_size"], cfg["patch_size"], cfg["channels"],
                  cfg["hidden_size"])
    n = (S // P) ** 2
    images = keras.Input((S, S, C), dtype=dtype)
    x = keras.layers.Conv2D(D, P, strides=P, padding="valid",
                            name="patch_embed", dtype=dtype)(images)
    x = keras.layers.Reshape((n, D), dtype=dtype)(x)  # row-major (y, x)
    x = ClassTokenAndPosition(n + 1, D, name="embed", dtype=dtype)(x)
    for i in range(cfg["depth"]):
        x = EncoderBlock(D, cfg["num_heads"], cfg["mlp_dim"],
                         name="block%d" % i, dtype=dtype)(x)
    x = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPS, name="norm",
                                        dtype=dtype)(x)
    x = keras.layers.Lambda(lambda t: t[:, 0], dtype=dtype)(x)  # class token
    logits = keras.layers.Dense(cfg["num_classes"], name="head",
                                dtype=dtype)(x)
    return keras.Model(images, logits)


def load_weights(model, cfg, weights):
    """Assigns timm-named checkpoint tensors to the Keras variables:
    linear [out, in] -> Dense kernel [in, out]; the fused qkv weight's rows
    are query, then key, then value."""
    D = cfg["hidden_size"]

    def assign(variable, value):
        assert tuple(variable.shape) == value.shape, (variable.path,
                                                      value.shape)
        variable.assign(value.astype(variable.dtype))

    def dense(layer, prefix, bias=True):
        assign(layer.kernel, weights[prefix + ".weight"].T)
        if bias:
            assign(layer.bias, weights[prefix + ".bias"])

    def norm(layer, prefix):
        assign(layer.gamma, weights[prefix + ".weight"])
        assign(layer.beta, weights[prefix + ".bias"])

    conv = model.get_layer("patch_embed")
    assign(conv.kernel, weights["patch_embed.proj.weight"])  # HWIO as is
    assign(conv.bias, weights["patch_embed.proj.bias"])
    embed = model.get_layer("embed")
    assign(embed.cls, weights["cls_token"])
    assign(embed.pos, weights["pos_embed"])
    for i in range(cfg["depth"]):
        block, p = model.get_layer("block%d" % i), "blocks.%d." % i
        norm(block.norm1, p + "norm1")
        qkv = weights[p + "attn.qkv.weight"]
        assign(block.attn.query.kernel, qkv[0:D].T)
        assign(block.attn.key.kernel, qkv[D:2 * D].T)
        assign(block.attn.value.kernel, qkv[2 * D:3 * D].T)
        dense(block.attn.out, p + "attn.proj")
        norm(block.norm2, p + "norm2")
        dense(block.fc1, p + "mlp.fc1")
        dense(block.fc2, p + "mlp.fc2")
    norm(model.get_layer("norm"), "norm")
    dense(model.get_layer("head"), "head")


def max_relative_error(actual, expected):
    """max|a - b| / max(1, max|b|), the measure of compare_npy.py."""
    diff = np.max(np.abs(actual.astype(np.float64) - expected))
    return diff / max(1.0, float(np.max(np.abs(expected))))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="vit-b16-keras",
                        choices=sorted(PRESETS))
    for field in FIELDS:
        parser.add_argument("--" + field.replace("_", "-"), type=int)
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--weights", help="safetensors in vitc's timm naming")
    weights.add_argument("--random-weights", action="store_true",
                         help="seeded random weights (the default)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the random weights")
    parser.add_argument("--save-weights", help="write the weights used")
    parser.add_argument("--batch", type=int, default=1)
    images = parser.add_mutually_exclusive_group()
    images.add_argument("--input-seed", type=int, default=0,
                        help="seed of the uniform [-1, 1) images")
    images.add_argument("--input", help="images: float32 .npy [B, S, S, C]")
    parser.add_argument("--save-input", help="write the images as .npy")
    parser.add_argument("--output", required=True,
                        help="write the float32 logits [B, K] as .npy")
    parser.add_argument("--float64-output",
                        help="also run the model in float64, write its logits")
    parser.add_argument("--describe", help="write config and versions as JSON")
    args = parser.parse_args()

    cfg = dict(PRESETS[args.model])
    for field in FIELDS:
        if getattr(args, field) is not None:
            cfg[field] = getattr(args, field)
    if cfg["image_size"] % cfg["patch_size"] or \
            cfg["hidden_size"] % cfg["num_heads"]:
        sys.exit("invalid config: %s" % cfg)

    if args.weights:
        try:
            weights = safetensors.read(args.weights)
        except ValueError as error:
            sys.exit(str(error))
        check_weights(cfg, weights, args.weights)
    else:
        weights = random_weights(cfg, args.seed)
    if args.save_weights:
        safetensors.write(args.save_weights, weights)

    shape = (args.batch, cfg["image_size"], cfg["image_size"],
             cfg["channels"])
    if args.input:
        x = np.load(args.input)
        if x.dtype != np.float32 or x.shape != shape:
            sys.exit("%s: expected float32 %s, got %s %s"
                     % (args.input, shape, x.dtype, x.shape))
    else:  # numpy's PCG64 stream is stable across numpy versions
        rng = np.random.default_rng(args.input_seed)
        x = rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
    if args.save_input:
        np.save(args.save_input, x)

    model = build_model(cfg, "float32")
    load_weights(model, cfg, weights)
    logits = model(tf.constant(x), training=False).numpy()
    np.save(args.output, logits.astype(np.float32))
    print("tensorflow %s, keras %s: %s batch %d -> logits %s, top-1 %s"
          % (tf.__version__, keras.__version__, args.model, args.batch,
             list(logits.shape), logits.argmax(axis=1).tolist()))

    if args.float64_output:
        model64 = build_model(cfg, "float64")
        load_weights(model64, cfg, weights)
        logits64 = model64(tf.constant(x.astype(np.float64)),
                           training=False).numpy()
        np.save(args.float64_output, logits64)
        print("float32 vs float64 TensorFlow: max relative error %.3e"
              % max_relative_error(logits, logits64))

    if args.describe:
        description = {
            "model": args.model, "config": cfg,
            "vitc_flags": " ".join("--%s %d" % (f.replace("_", "-"), cfg[f])
                                   for f in FIELDS),
            "layer_norm_eps": LAYER_NORM_EPS, "gelu": "exact",
            "qkv_bias": False, "input_layout": "nhwc",
            "kernel_layout": "hwio", "batch": args.batch,
            "weights": ("file " + os.path.basename(args.weights)
                        if args.weights else
                        "tf.random.stateless_uniform, seed %d" % args.seed),
            "input": ("file " + os.path.basename(args.input) if args.input
                      else "numpy default_rng(%d).uniform(-1, 1)"
                      % args.input_seed),
            "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__, "python": sys.version.split()[0],
        }
        with open(args.describe, "w") as f:
            json.dump(description, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
