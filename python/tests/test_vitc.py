"""vitc.compile: the command line's artifacts and errors."""

import os
import pathlib
import stat

import numpy as np
import pytest

import vitc
import vitrt
from conftest import TINY


def test_compile_returns_the_artifact(tiny_model):
    data = tiny_model.read_bytes()
    assert data[4:8] == b"VITB"  # the FlatBuffers file identifier
    with vitrt.Session(data) as session:
        assert session.model_name == "vit-ti16"


def test_seed_selects_the_weights(tmp_path, tiny_model):
    """The fixture's model was compiled with seed 3: the same seed gives
    the same logits, another seed other ones."""
    same = vitc.compile(model="vit-ti16", out=tmp_path / "same.vitb",
                        random_weights=True, seed=3, extra_args=TINY)
    other = vitc.compile(model="vit-ti16", out=str(tmp_path / "other.vitb"),
                         random_weights=True, seed=4, extra_args=TINY)
    assert isinstance(other, pathlib.Path)
    x = np.linspace(-1, 1, 3 * 32 * 32, dtype=np.float32).reshape(1, 3, 32, 32)
    logits = {}
    for name, path in (("fixture", tiny_model), ("same", same),
                       ("other", other)):
        with vitrt.Session(path) as session:
            logits[name] = session.run(x)
    np.testing.assert_array_equal(logits["same"], logits["fixture"])
    assert not np.array_equal(logits["other"], logits["fixture"])


def test_cli_error_is_compile_error(tmp_path):
    with pytest.raises(vitc.CompileError) as caught:
        vitc.compile(model="vit-nonexistent", out=tmp_path / "m.vitb",
                     random_weights=True)
    error = caught.value
    assert str(error).startswith("vitc: error: ")
    assert "vit-nonexistent" in str(error)
    assert error.returncode != 0
    assert str(error) in error.stderr
    assert error.command[1:3] == ["--model", "vit-nonexistent"]
    assert not (tmp_path / "m.vitb").exists()


def test_missing_weights_file(tmp_path):
    missing = tmp_path / "missing.safetensors"
    with pytest.raises(vitc.CompileError, match="missing.safetensors"):
        vitc.compile(model="vit-ti16", out=tmp_path / "m.vitb",
                     weights=missing, extra_args=TINY)


def test_argument_errors(tmp_path):
    out = tmp_path / "m.vitb"
    with pytest.raises(ValueError, match="exactly one of weights"):
        vitc.compile(model="vit-ti16", out=out)
    with pytest.raises(ValueError, match="exactly one of weights"):
        vitc.compile(model="vit-ti16", out=out, weights="w.safetensors",
                     random_weights=True)
    with pytest.raises(ValueError, match="seed is for random_weights"):
        vitc.compile(model="vit-ti16", out=out, weights="w.safetensors",
                     seed=1)
    with pytest.raises(TypeError, match="sequence of arguments"):
        vitc.compile(model="vit-ti16", out=out, random_weights=True,
                     extra_args="--depth 1")


def test_binary_from_environment(monkeypatch, tmp_path, vitc_binary):
    monkeypatch.setenv("VITC_BINARY", str(vitc_binary))
    assert vitc.find_binary() == vitc_binary

    missing = tmp_path / "vitc"
    monkeypatch.setenv("VITC_BINARY", str(missing))
    with pytest.raises(vitc.BinaryNotFoundError,
                       match="is not an executable file"):
        vitc.compile(model="vit-ti16", out=tmp_path / "m.vitb",
                     random_weights=True)

    # Set, it is the only place looked at, even with vitc on PATH.
    monkeypatch.setenv("PATH", str(vitc_binary.parent) + os.pathsep +
                       os.environ.get("PATH", ""))
    with pytest.raises(vitc.BinaryNotFoundError):
        vitc.find_binary()
    monkeypatch.delenv("VITC_BINARY")
    assert vitc.find_binary() == vitc_binary


def test_binary_that_cannot_run(tmp_path):
    script = tmp_path / "vitc"
    script.write_text("#!/bin/sh\necho 'vitc: error: broken on purpose' >&2\n"
                      "echo 'a later line' >&2\nexit 3\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(vitc.CompileError) as caught:
        vitc.compile(model="vit-ti16", out=tmp_path / "m.vitb",
                     random_weights=True, binary=script)
    assert str(caught.value) == "vitc: error: broken on purpose"
    assert caught.value.returncode == 3

    script.write_text("#!/bin/sh\necho 'Segmentation fault' >&2\nexit 139\n")
    with pytest.raises(vitc.CompileError, match="^Segmentation fault$"):
        vitc.compile(model="vit-ti16", out=tmp_path / "m.vitb",
                     random_weights=True, binary=script)
