"""Fixtures of the Python API tests: the vitc tools and a tiny compiled model.

The tools are found as the packages find them (VITC_BINARY, PATH, the
source tree's build/bin); vit-run is VIT_RUN_BINARY or the vit-run next to
vitc. Nothing here skips: a missing tool or library is a test error, so
that a broken setup cannot pass as "nothing to test" (test/python/api.test
runs these tests in the project's test command).
"""

import os
import pathlib
import subprocess

import numpy as np
import pytest

import vitc

REPO = pathlib.Path(__file__).resolve().parents[2]

# The tiny model of the lit tests (test/tools/vit-run/run.test): one encoder
# block of ViT-Ti/16 on 32x32 images, here with 10 classes, so that it
# compiles in seconds and vit-run prints every class.
TINY = ["--depth", "1", "--image-size", "32", "--num-classes", "10"]
TINY_INPUT_SHAPE = (1, 3, 32, 32)
TINY_OUTPUT_SHAPE = (1, 10)


@pytest.fixture(scope="session")
def vitc_binary():
    return vitc.find_binary()


@pytest.fixture(scope="session")
def vit_run_binary(vitc_binary):
    path = pathlib.Path(os.environ.get("VIT_RUN_BINARY") or
                        vitc_binary.parent / "vit-run")
    assert path.is_file(), \
        "vit-run not found at %s (set VIT_RUN_BINARY)" % path
    return path


@pytest.fixture(scope="session")
def cuda_emulator(vitc_binary):
    """vitc's CUDA driver emulator (docs/cuda-emulator.md): CUDA artifacts'
    PTX run on the CPU, through vitrt's real CUDA backend."""
    path = pathlib.Path(os.environ.get("CUDA_EMULATOR") or
                        vitc_binary.parent.parent / "lib" /
                        "libcuda-emulator.so")
    assert path.is_file(), \
        "the CUDA emulator is not at %s (set CUDA_EMULATOR)" % path
    return path


@pytest.fixture(scope="session")
def tiny_cuda_model(tmp_path_factory, vitc_binary):
    """The tiny model for sm_90. vitc assembles its PTX with ptxas, which
    the project's tests require (test/lit.cfg.py) rather than skip."""
    out = tmp_path_factory.mktemp("models") / "tiny_sm90.vitb"
    return vitc.compile(model="vit-ti16", out=out, random_weights=True,
                        seed=3, target="cuda:sm_90", extra_args=TINY,
                        binary=vitc_binary)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, vitc_binary):
    """A tiny CPU artifact with seeded random weights."""
    out = tmp_path_factory.mktemp("models") / "tiny.vitb"
    return vitc.compile(model="vit-ti16", out=out, random_weights=True,
                        seed=3, extra_args=TINY, binary=vitc_binary)


@pytest.fixture(scope="session")
def slow_model(tmp_path_factory, vitc_binary):
    """A model whose single run takes long enough to see what other Python
    threads do meanwhile: all of ViT-Ti/16 on a batch of 12, 15 GMACs, about
    0.2 s on one AVX-512 core (and longer on slower ones). It compiles in
    about a second, since its 12 blocks share the same kernels."""
    out = tmp_path_factory.mktemp("models") / "slow.vitb"
    return vitc.compile(model="vit-ti16", out=out, random_weights=True,
                        batch=12, extra_args=["--num-classes", "10"],
                        binary=vitc_binary)


@pytest.fixture
def rng():
    return np.random.default_rng(20240511)


def random_input(rng, shape=TINY_INPUT_SHAPE):
    """Uniform [-1, 1) fp32 values, the range vit-run's random input has."""
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def vit_run(binary, *args, env=None):
    """Runs vit-run; its standard output, or an assertion with its error."""
    result = subprocess.run([str(binary)] + [str(a) for a in args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    assert result.returncode == 0, "vit-run %s: %s" % (
        " ".join(map(str, args)), result.stderr)
    return result.stdout
