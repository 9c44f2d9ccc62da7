#!/usr/bin/env python3
"""On-demand check of vitc.keras against TensorFlow (docs/keras.md).

Builds ViTs the way the Keras article builds them (keras_article_vit.py,
tf_keras), draws their weights, exports them with vitc.keras, compiles the
folders with vitc, runs them with vit-run on fresh random images and
compares with the Keras model's own outputs, model(x). Then the cases
that must fail: exported weights with q and k swapped or without the
position embedding (the comparison must catch them), models the exporter
must refuse (a CNN, a ViT without class token or position embedding, an
image size the patch does not divide, a Keras 3 model), and the model
files and the weights-plus-code route.

  scripts/check_keras_export.sh [--quick] [--keep]

(the .sh makes the TensorFlow virtualenv). Exits 1 if any check fails;
prints one line per check, with the max abs and relative errors.

The bound: max|vitc - keras| / max(1, max|keras|) <= 1e-4, the bound of
test/E2E/Inputs/compare_npy.py and docs/tensorflow-oracle.md: both sides
compute in fp32 with different summation orders (observed 1e-7 to 1e-6),
while a convention mistake moves the logits by 1e-2 to 1.
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "scripts"))

import keras_article_vit as article  # noqa: E402
import tf_keras as keras  # noqa: E402
import vitc.keras  # noqa: E402
from vitc import _safetensors  # noqa: E402

BOUND = 1e-4

# name: builder arguments (and the batch). Each is checked against the
# config the exporter writes, field by field.
VARIANTS = {
    "vit-b16": dict(image_size=224, patch_size=16, width=768, depth=12,
                    heads=12, mlp_dim=3072, classes=1000, batch=2),
    "img32-p8-w32-qkvbias": dict(image_size=32, patch_size=8, width=32,
                                 depth=2, heads=2, mlp_dim=64, classes=10,
                                 batch=2, qkv_bias=True),
    "img48-p16-w48-valid-densegelu": dict(
        image_size=48, patch_size=16, width=48, depth=3, heads=3,
        mlp_dim=96, classes=7, batch=3, qkv_bias=True, padding="valid",
        gelu="dense"),
    "img24-p4-c1-tanh-eps1e-5-headsfirst": dict(
        image_size=24, patch_size=4, channels=1, width=64, depth=1, heads=8,
        mlp_dim=80, classes=5, batch=1, eps=1e-5, gelu="tf-tanh",
        qkv_split="heads-first"),
    "img36-p12-w96-h4-tfgelu": dict(
        image_size=36, patch_size=12, width=96, depth=2, heads=4,
        mlp_dim=192, classes=20, batch=2, qkv_bias=True, gelu="tf-exact"),
    "img32-p16-w40-other-spelling": dict(
        image_size=32, patch_size=16, width=40, depth=2, heads=5, mlp_dim=56,
        classes=3, batch=2, spelling="other"),
}


class Checks:
    def __init__(self):
        self.failed = []

    def result(self, name, ok, detail=""):
        print("%-48s %s%s" % (name, "PASS" if ok else "FAIL",
                              "  " + detail if detail else ""), flush=True)
        if not ok:
            self.failed.append(name)


def run(command, **kwargs):
    result = subprocess.run([str(c) for c in command],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (
            " ".join(str(c) for c in command), result.returncode,
            result.stdout, result.stderr))
    return result


def vitc_logits(bin_dir, folder, images, work, name):
    """Compiles the folder, runs it on the images; the logits."""
    np.save(work / (name + "-input.npy"), images)
    artifact = work / (name + ".vitb")
    run([bin_dir / "vitc", "--config", folder / "config.json", "--weights",
         folder / "model.safetensors", "--batch", images.shape[0],
         "-o", artifact])
    out = work / (name + "-vitc.npy")
    run([bin_dir / "vit-run", artifact, "--input",
         work / (name + "-input.npy"), "--output", out, "--topk", "1"])
    return np.load(out)


def errors(actual, expected):
    diff = float(np.max(np.abs(actual.astype(np.float64) - expected)))
    scale = max(1.0, float(np.max(np.abs(expected))))
    return diff, diff / scale


def build(seed, **kwargs):
    kwargs = dict(kwargs)
    kwargs.pop("batch_for_run", None)
    width = kwargs["width"]
    model, position = article.build(
        class_token=article.random_class_token(width, seed), **kwargs)
    article.randomize(model, position, seed)
    return model


def expected_config(args):
    return {
        "image_size": args["image_size"], "patch_size": args["patch_size"],
        "channels": args.get("channels", 3), "hidden_size": args["width"],
        "depth": args["depth"], "num_heads": args["heads"],
        "mlp_dim": args["mlp_dim"], "num_classes": args["classes"],
        "qkv_bias": args.get("qkv_bias", False),
        "layer_norm_eps": args.get("eps", 1e-6), "input_layout": "nhwc",
        "kernel_layout": "hwio",
        "gelu": "tanh" if args.get("gelu") == "tf-tanh" else "exact",
    }


def check_variant(checks, bin_dir, work, name, args, seed):
    model = build(seed, **args)
    shape = (args["batch"], args["image_size"], args["image_size"],
             args.get("channels", 3))
    images = article.random_images(shape, seed)
    expected = model(images, training=False).numpy()
    folder = work / name
    config = vitc.keras.export(model, folder)
    wrong = {k: (config[k], v) for k, v in expected_config(args).items()
             if config[k] != v}
    checks.result("%s: config read from the layers" % name, not wrong,
                  "differs: %s" % wrong if wrong else "")
    # The class token and position embedding are not in model.weights:
    # the export holds D + T * D more parameters than Keras counts.
    exported = sum(a.size for a in
                   _safetensors.read(folder / "model.safetensors").values())
    tokens = (args["image_size"] // args["patch_size"]) ** 2 + 1
    untracked = args["width"] * (1 + tokens)
    checks.result("%s: parameters" % name,
                  exported == model.count_params() + untracked,
                  "exported %s = Keras' count_params() %s + %s" % (
                      format(exported, ","),
                      format(model.count_params(), ","),
                      format(untracked, ",")))
    actual = vitc_logits(bin_dir, folder, images, work, name)
    diff, rel = errors(actual, expected)
    checks.result("%s: vitc vs model(x)" % name, rel <= BOUND,
                  "max abs %.2e, relative %.2e (logits up to %.2f)" %
                  (diff, rel, float(np.max(np.abs(expected)))))
    return model, folder, images, expected


def check_sensitivity(checks, bin_dir, work, folder, images, expected):
    """Tampered exports must fail the comparison."""
    tensors = _safetensors.read(folder / "model.safetensors")
    config = json.loads((folder / "config.json").read_text())
    width = config["hidden_size"]

    def swap_qk(t):
        t = dict(t)
        for name in [n for n in t if n.endswith("attn.qkv.weight") or
                     n.endswith("attn.qkv.bias")]:
            a = t[name].copy()
            a[:width], a[width:2 * width] = t[name][width:2 * width], \
                t[name][:width]
            t[name] = a
        return t

    def no_position(t):
        t = dict(t)
        t["pos_embed"] = np.zeros_like(t["pos_embed"])
        return t

    def tanh_gelu(c):
        c = dict(c)
        c["gelu"] = "tanh" if c["gelu"] == "exact" else "exact"
        return c

    for label, change_tensors, change_config, must_fail in (
            ("q and k swapped", swap_qk, None, True),
            ("position embedding dropped", no_position, None, True),
            ("the other GELU form", None, tanh_gelu, False)):
        bad = work / ("tampered-" + label.replace(" ", "-"))
        bad.mkdir(parents=True, exist_ok=True)
        _safetensors.write(bad / "model.safetensors",
                           change_tensors(tensors) if change_tensors
                           else tensors)
        (bad / "config.json").write_text(json.dumps(
            change_config(config) if change_config else config))
        actual = vitc_logits(bin_dir, bad, images, work, bad.name)
        diff, rel = errors(actual, expected)
        if must_fail:
            checks.result("sensitivity: %s" % label, rel > BOUND,
                          "relative %.2e (must exceed %.0e)" % (rel, BOUND))
        else:
            print("%-48s info  relative %.2e" % ("sensitivity: " + label,
                                                  rel))


def expect_error(checks, label, function, *needles):
    try:
        function()
    except vitc.keras.ExportError as error:
        message = str(error)
        ok = all(n in message for n in needles)
        checks.result("refused: %s" % label, ok, message if ok else
                      "message lacks %s: %s" % (needles, message))
        return
    except Exception as error:  # noqa: BLE001
        checks.result("refused: %s" % label, False,
                      "%s: %s" % (type(error).__name__, error))
        return
    checks.result("refused: %s" % label, False, "exported without error")


def check_refusals(checks, work):
    small = dict(image_size=32, patch_size=8, width=32, depth=1, heads=2,
                 mlp_dim=64, classes=10, batch=1)

    images = keras.Input(batch_shape=[1, 32, 32, 3])
    x = keras.layers.Conv2D(16, 3, padding="same")(images)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    cnn = keras.Model(images, keras.layers.Dense(10, name="logits")(x))
    expect_error(checks, "a CNN", lambda: vitc.keras.export(
        cnn, work / "cnn"), "'pool'", "GlobalAveragePooling2D")

    images = keras.Input(batch_shape=[1, 32, 32, 3])
    x = keras.layers.Flatten()(images)
    softmax = keras.Model(images, keras.layers.Dense(
        10, activation="softmax", name="probs")(x))
    expect_error(checks, "a softmax classifier", lambda: vitc.keras.export(
        softmax, work / "softmax"), "'probs'", "softmax")

    model, _ = article.build(with_class_token=False, **small)
    expect_error(checks, "no class token", lambda: vitc.keras.export(
        model, work / "nocls"), "class token not found", "tf.reshape")

    model, _ = article.build(with_position_embedding=False, **small)
    expect_error(checks, "no position embedding", lambda: vitc.keras.export(
        model, work / "nopos"), "position embedding not found",
        "'concatenate")

    odd = dict(small, image_size=30, padding="valid")
    model, _ = article.build(**odd)
    expect_error(checks, "image 30 with patch 8", lambda: vitc.keras.export(
        model, work / "odd"), "'conv2d", "not a multiple of the patch size")

    import keras as keras3
    images = keras3.Input((4,))
    k3 = keras3.Model(images, keras3.layers.Dense(2)(images))
    expect_error(checks, "a Keras 3 model", lambda: vitc.keras.export(
        k3, work / "k3"), "Keras 3")


def same_files(a, b):
    return all((a / f).read_bytes() == (b / f).read_bytes()
               for f in ("model.safetensors", "config.json"))


def error_line(result):
    """The exporter's error line (TensorFlow logs to stderr too)."""
    lines = [l for l in result.stderr.splitlines()
             if l.startswith("python -m vitc.keras: error:")]
    return lines[-1] if lines else result.stderr.strip()[-300:]


def cli(args, env):
    return subprocess.run([sys.executable, "-m", "vitc.keras"] +
                          [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env)


def check_files(checks, work):
    """Model files (.h5, .keras, SavedModel) and weights plus code."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    small = dict(image_size=32, patch_size=8, width=32, depth=2, heads=2,
                 mlp_dim=64, classes=10, batch=2, qkv_bias=True)

    # The article's own construction cannot be saved as a whole model.
    model = build(5, **small)
    for suffix in (".h5", ".keras", ""):
        target = work / ("article" + (suffix or "-savedmodel"))
        try:
            model.save(target)
            outcome = "saved (the exporter can read it)"
        except Exception as error:  # noqa: BLE001
            outcome = "%s: %s" % (type(error).__name__,
                                  str(error).splitlines()[0][:110])
        print("%-48s info  %s" % ("article model, save as %s" %
                                  (suffix or "SavedModel"), outcome))

    # With the position embedding passed as a tensor, it is a constant
    # of the graph and every format saves; each must export as the live
    # model does.
    model = build(6, constant_embeddings=True, **small)
    live = work / "constant-live"
    vitc.keras.export(model, live, name="vit")
    for suffix in (".h5", ".keras", ""):
        target = work / ("constant" + (suffix or "-savedmodel"))
        model.save(target)
        out = work / ("constant-export" + (suffix or "-savedmodel"))
        result = cli([target, out, "--name", "vit"], env)
        ok = result.returncode == 0 and same_files(live, out)
        checks.result("model file %s" % (suffix or "SavedModel"), ok,
                      "same files as the live export" if ok else
                      error_line(result))

    # Weights plus code: save_weights drops the class token and position
    # embedding; they come from .npy files.
    model = build(7, **small)
    live = work / "weights-live"
    vitc.keras.export(model, live, name="vit")
    weights = work / "weights.h5"
    model.save_weights(weights)
    _, tensors = vitc.keras.read_model(model)
    np.save(work / "cls.npy", tensors["cls_token"])
    np.save(work / "pos.npy", tensors["pos_embed"])
    script = work / "build_vit.py"
    script.write_text(
        "import sys\nsys.path.insert(0, %r)\nimport keras_article_vit\n"
        "model, _ = keras_article_vit.build(**%r)\n" %
        (str(ROOT / "scripts"), small))
    out = work / "weights-export"
    result = cli([script, out, "--weights", weights, "--class-token",
                  work / "cls.npy", "--position-embedding", work / "pos.npy"],
                 env)
    ok = result.returncode == 0 and same_files(live, out)
    checks.result("weights + code (+ class token, position .npy)", ok,
                  "same files as the live export" if ok else
                  error_line(result))
    result = cli([script, work / "weights-bad", "--weights", weights], env)
    ok = (result.returncode == 1 and
          "--class-token and --position-embedding" in result.stderr)
    checks.result("weights + code without the embeddings refused", ok,
                  error_line(result))
    result = cli([weights, work / "weights-only"], env)
    ok = result.returncode == 1 and "holds weights only" in result.stderr
    checks.result("a save_weights file refused", ok, error_line(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="skip ViT-B/16")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work directory")
    parser.add_argument("--work", help="work directory (default: a "
                        "temporary one, or $BUILD_DIR/keras-check with "
                        "--keep)")
    args = parser.parse_args()
    build_dir = pathlib.Path(os.environ.get("BUILD_DIR", ROOT / "build"))
    bin_dir = build_dir / "bin"
    for tool in ("vitc", "vit-run"):
        if not (bin_dir / tool).is_file():
            sys.exit("error: %s not built" % (bin_dir / tool))
    if args.work or args.keep:
        work = pathlib.Path(args.work or build_dir / "keras-check")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
    else:
        work = pathlib.Path(tempfile.mkdtemp(prefix="keras-check-"))
    print("TensorFlow %s, tf_keras %s, NumPy %s; work directory %s" % (
        tf.__version__, keras.__version__, np.__version__, work))
    checks = Checks()
    try:
        small = None
        for seed, (name, variant) in enumerate(VARIANTS.items()):
            if args.quick and name == "vit-b16":
                continue
            result = check_variant(checks, bin_dir, work, name, variant,
                                   seed)
            if name == "img32-p8-w32-qkvbias":
                small = result
        _, folder, images, expected = small
        check_sensitivity(checks, bin_dir, work, folder, images, expected)
        check_refusals(checks, work)
        check_files(checks, work)
    finally:
        if not (args.keep or args.work):
            shutil.rmtree(work, ignore_errors=True)
    if checks.failed:
        print("FAILED: %d check(s): %s" % (len(checks.failed),
                                           ", ".join(checks.failed)))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
