"""vitc.keras without TensorFlow: a committed export against TensorFlow's
logits, and the parts of the exporter that need no TensorFlow.

test/python/Inputs/keras_golden/ holds what vitc.keras wrote for a small
ViT built the way the Keras article builds it (image 32, patch 8, width
32, depth 2, 2 heads, MLP 64, 10 classes, query/key/value bias on), two
NHWC images and the Keras model's logits for them, model(x) in fp32
(scripts/make_keras_golden.py regenerates it with TensorFlow;
scripts/check_keras_export.sh runs the exporter itself against TensorFlow,
on demand).

The bound: max|vitc - TF| / max(1, max|TF|) <= 1e-4, as in
test/E2E/Inputs/compare_npy.py and docs/tensorflow-oracle.md. Both sides
compute in fp32 with different summation orders, which moves these logits
by about 5e-7; the convention mistakes the exporter could make move them
by far more than the bound (q and k swapped: about 0.6; the position
embedding lost: about 1.5; checked below).
"""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO

from vitc import _safetensors

GOLDEN = REPO / "test" / "python" / "Inputs" / "keras_golden"
BOUND = 1e-4


def relative_error(actual, expected):
    diff = np.max(np.abs(actual.astype(np.float64) - expected))
    return float(diff / max(1.0, float(np.max(np.abs(expected)))))


def compile_and_run(vitc_binary, vit_run_binary, folder, tmp_path,
                    name="m"):
    """vitc --config folder/config.json --weights folder/model.safetensors,
    then vit-run on the golden's images; the logits."""
    images = np.load(GOLDEN / "input.npy")
    artifact = tmp_path / (name + ".vitb")
    subprocess.run([str(vitc_binary), "--config",
                    str(folder / "config.json"), "--weights",
                    str(folder / "model.safetensors"), "--batch",
                    str(images.shape[0]), "-o", str(artifact)],
                   check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
    out = tmp_path / (name + ".npy")
    subprocess.run([str(vit_run_binary), str(artifact), "--input",
                    str(GOLDEN / "input.npy"), "--output", str(out),
                    "--topk", "1"], check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
    return np.load(out)


def test_golden_matches_tensorflow(vitc_binary, vit_run_binary, tmp_path):
    expected = np.load(GOLDEN / "logits.npy")
    actual = compile_and_run(vitc_binary, vit_run_binary, GOLDEN, tmp_path)
    assert actual.shape == expected.shape == (2, 10)
    assert np.all(np.isfinite(actual))
    assert relative_error(actual, expected) <= BOUND


def test_golden_folder_compiles_with_model_dir(vitc_binary, vit_run_binary,
                                               tmp_path):
    """vitc --model-dir reads the exported folder as it is (vitc's own
    config format): the same logits, bit for bit, as --config and
    --weights."""
    artifact = tmp_path / "dir.vitb"
    subprocess.run([str(vitc_binary), "--model-dir", str(GOLDEN),
                    "--batch", "2", "-o", str(artifact)], check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = tmp_path / "dir.npy"
    subprocess.run([str(vit_run_binary), str(artifact), "--input",
                    str(GOLDEN / "input.npy"), "--output", str(out)],
                   check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
    flags = compile_and_run(vitc_binary, vit_run_binary, GOLDEN, tmp_path)
    np.testing.assert_array_equal(np.load(out), flags)


def tampered(tmp_path, name, change_tensors=None, change_config=None):
    folder = tmp_path / name
    folder.mkdir()
    tensors = _safetensors.read(GOLDEN / "model.safetensors")
    config = json.loads((GOLDEN / "config.json").read_text())
    if change_tensors:
        change_tensors(tensors, config["hidden_size"])
    if change_config:
        change_config(config)
    _safetensors.write(folder / "model.safetensors", tensors)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def swap_q_and_k(tensors, width):
    for name in [n for n in tensors if ".attn.qkv." in n]:
        t = tensors[name]
        tensors[name] = np.concatenate([t[width:2 * width], t[:width],
                                        t[2 * width:]])


def drop_position_embedding(tensors, width):
    tensors["pos_embed"] = np.zeros_like(tensors["pos_embed"])


@pytest.mark.parametrize("change", [swap_q_and_k, drop_position_embedding])
def test_comparison_catches_a_wrong_export(vitc_binary, vit_run_binary,
                                           tmp_path, change):
    """What the exporter must get right changes the logits far beyond the
    bound (so the test above would catch it)."""
    folder = tampered(tmp_path, change.__name__, change_tensors=change)
    actual = compile_and_run(vitc_binary, vit_run_binary, folder, tmp_path)
    expected = np.load(GOLDEN / "logits.npy")
    assert relative_error(actual, expected) > 100 * BOUND


def test_weights_are_what_vitc_writes(vitc_binary, tmp_path):
    """vitc loads the exported file and saves the same bytes: names,
    shapes and the layout are vitc's own (vitc --save-weights)."""
    saved = tmp_path / "saved.safetensors"
    subprocess.run([str(vitc_binary), "--config",
                    str(GOLDEN / "config.json"), "--weights",
                    str(GOLDEN / "model.safetensors"), "--summary",
                    "--save-weights", str(saved)],
                   check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
    assert saved.read_bytes() == (GOLDEN / "model.safetensors").read_bytes()


def test_safetensors_writer_round_trip(tmp_path):
    tensors = _safetensors.read(GOLDEN / "model.safetensors")
    assert "cls_token" in tensors and "pos_embed" in tensors
    assert tensors["blocks.0.attn.qkv.bias"].shape == (96,)
    copy = tmp_path / "copy.safetensors"
    _safetensors.write(copy, tensors)
    assert copy.read_bytes() == (GOLDEN / "model.safetensors").read_bytes()
    with pytest.raises(TypeError, match="'ids'"):
        _safetensors.write(tmp_path / "bad.safetensors",
                           {"ids": np.arange(3)})


def test_golden_config_is_the_keras_construction():
    config = json.loads((GOLDEN / "config.json").read_text())
    assert config == {
        "name": "keras-golden", "image_size": 32, "patch_size": 8,
        "channels": 3, "hidden_size": 32, "depth": 2, "num_heads": 2,
        "mlp_dim": 64, "num_classes": 10, "qkv_bias": True,
        "layer_norm_eps": 1e-6, "input_layout": "nhwc",
        "kernel_layout": "hwio", "gelu": "exact",
        "pixel_mean": [0.5, 0.5, 0.5], "pixel_std": [0.5, 0.5, 0.5]}
    provenance = json.loads((GOLDEN / "provenance.json").read_text())
    # The Keras model's own count misses the class token and the position
    # embedding (32 + 17 * 32), which the export holds.
    exported = sum(t.size for t in
                   _safetensors.read(GOLDEN / "model.safetensors").values())
    assert exported == provenance["keras_params"] + 32 + 17 * 32


def test_keras_module_imports_without_tensorflow(monkeypatch):
    """import vitc.keras needs no TensorFlow; using it says what to
    install."""
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    monkeypatch.setitem(sys.modules, "tf_keras", None)
    import vitc.keras
    with pytest.raises(ImportError, match="pip install tensorflow-cpu "
                       "tf_keras"):
        vitc.keras.read_model(object())


def test_command_line_errors(tmp_path):
    """Errors found before TensorFlow is needed."""
    env_python = [sys.executable, "-m", "vitc.keras"]
    src = str(pathlib.Path(__file__).resolve().parents[1])
    env = {"PYTHONPATH": src, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(env_python + [str(tmp_path / "missing.h5"),
                                          str(tmp_path / "out")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    assert result.returncode == 1
    assert result.stderr == ("python -m vitc.keras: error: %s does not "
                             "exist\n" % (tmp_path / "missing.h5"))
    model = tmp_path / "m.h5"
    model.write_bytes(b"")
    result = subprocess.run(env_python + [str(model), str(tmp_path / "out"),
                                          "--weights", "w.h5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    assert result.returncode == 1
    assert "--weights goes with a Python file" in result.stderr
    assert not (tmp_path / "out").exists()
