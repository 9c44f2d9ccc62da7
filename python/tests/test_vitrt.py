"""vitrt.Session against vit-run, and its checks, errors and threads."""

import os
import pathlib
import re
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import vitc
import vitrt
from conftest import (REPO, TINY, TINY_INPUT_SHAPE, TINY_OUTPUT_SHAPE,
                      random_input, vit_run)


def assert_same_logits(actual, expected):
    """The bound of every comparison here: bit-identical logits.

    vitrt.Session and vit-run call the same libvitrt on the same artifact,
    so they run the same kernels on the same bytes, and vitrt.h promises
    that a CPU run is deterministic whatever the thread count. Any
    difference, even one ulp, is a bug in how Python passes the buffers.
    """
    assert actual.dtype == np.float32 and expected.dtype == np.float32
    np.testing.assert_array_equal(actual, expected)


@pytest.fixture
def session(tiny_model):
    with vitrt.Session(tiny_model, threads=2) as session:
        yield session


# -- numerics against vit-run -------------------------------------------


def test_run_matches_vit_run(session, tiny_model, vit_run_binary, rng,
                             tmp_path):
    x = random_input(rng)
    np.save(tmp_path / "x.npy", x)
    vit_run(vit_run_binary, tiny_model, "--input", tmp_path / "x.npy",
            "--threads", 1, "--output", tmp_path / "logits.npy")
    expected = np.load(tmp_path / "logits.npy")

    logits = session.run(x)
    assert logits.shape == TINY_OUTPUT_SHAPE
    assert np.all(np.isfinite(logits))
    assert_same_logits(logits, expected)
    # The input is only read.
    assert np.array_equal(x, np.load(tmp_path / "x.npy"))


def test_comparison_catches_a_changed_input(session, tiny_model,
                                            vit_run_binary, rng, tmp_path):
    """The check above can fail: one input value moved by 1e-3 (of a [-1, 1)
    range) changes the logits beyond the bound, and so does passing the
    other image's data."""
    x = random_input(rng)
    np.save(tmp_path / "x.npy", x)
    vit_run(vit_run_binary, tiny_model, "--input", tmp_path / "x.npy",
            "--output", tmp_path / "logits.npy")
    expected = np.load(tmp_path / "logits.npy")

    nudged = x.copy()
    nudged[0, 1, 7, 11] += 1e-3
    with pytest.raises(AssertionError):
        assert_same_logits(session.run(nudged), expected)
    with pytest.raises(AssertionError):
        assert_same_logits(session.run(random_input(rng)), expected)
    assert_same_logits(session.run(x), expected)


def test_topk_matches_vit_run(session, tiny_model, vit_run_binary, rng,
                              tmp_path):
    x = random_input(rng)
    np.save(tmp_path / "x.npy", x)
    report = vit_run(vit_run_binary, tiny_model, "--input",
                     tmp_path / "x.npy", "--topk", 10)
    # "  #1    7  1.2345": rank, class index, logit (no labels for 10 classes)
    ranked = [int(m.group(1)) for m in
              re.finditer(r"^  #\d+\s+(\d+)\s+-?\d", report, re.MULTILINE)]
    assert len(ranked) == 10

    top = vitrt.topk(session.run(x), 10)
    assert top.indices.shape == (1, 10)
    assert top.indices[0].tolist() == ranked
    top5 = vitrt.topk(session.run(x), 5)
    assert top5.indices[0].tolist() == ranked[:5]
    assert np.all(np.diff(top5.values[0]) <= 0)


def test_labels_and_pixel_statistics_from_the_compile_flags(
        tmp_path, vitc_binary):
    labels = ["cat", "dog", "with\ttab"] + ["class %d" % i for i in range(7)]
    (tmp_path / "labels.txt").write_text("\n".join(labels) + "\n")
    model = vitc.compile(
        model="vit-ti16", out=tmp_path / "named.vitb", random_weights=True,
        binary=vitc_binary,
        extra_args=TINY + ["--channels", "4", "--labels",
                           str(tmp_path / "labels.txt"),
                           "--pixel-mean", "0.1,0.2,0.3,0.4",
                           "--pixel-std", "0.5,0.5,0.5,0.25"])
    with vitrt.Session(model) as named:
        assert named.labels == tuple(labels)
        assert named.metadata["labels"] == tuple(labels)
        assert named.pixel_mean == pytest.approx((0.1, 0.2, 0.3, 0.4))
        assert named.pixel_std == (0.5, 0.5, 0.5, 0.25)
        assert named.input_shape == (1, 4, 32, 32)


def test_models_without_labels_have_none(session):
    assert session.labels == ()


def test_metadata_matches_vit_run(session, tiny_model, vit_run_binary,
                                  tmp_path):
    assert session.model_name == "vit-ti16"
    assert session.target_kind == "cpu"
    assert session.target_name  # this machine's, e.g. "x86_64"
    assert session.precision == "fp32"
    assert session.input_layout == "nchw"
    assert session.batch == 1
    assert session.input_shape == TINY_INPUT_SHAPE
    assert session.output_shape == TINY_OUTPUT_SHAPE
    assert len(session.inputs) == 1 and len(session.outputs) == 1
    assert isinstance(session.inputs[0], vitrt.TensorInfo)
    assert session.macs_per_image > 0
    assert session.device == "cpu"
    assert session.threads == 2
    metadata = session.metadata
    assert metadata["model_name"] == "vit-ti16"
    assert metadata["inputs"] == [{"name": session.inputs[0].name,
                                   "shape": TINY_INPUT_SHAPE}]
    assert "vit-ti16" in repr(session) and "(1, 3, 32, 32)" in repr(session)

    # What vit-run (C++ over the same C API) reads from the artifact: the
    # header, and the normalisation it applies to an image.
    subprocess.run([sys.executable,
                    REPO / "test/tools/vit-run/Inputs/tensors.py", "png",
                    tmp_path / "image.png", "8", "8", "gradient"], check=True)
    report = vit_run(vit_run_binary, tiny_model, "--input",
                     tmp_path / "image.png")
    assert ("target:  cpu %s, %s," % (session.target_name, session.precision)
            in report)
    assert "output:  %s [1, 10]" % session.outputs[0].name in report
    normalisation = "mean [%s], std [%s]" % (
        ", ".join("%g" % v for v in session.pixel_mean),
        ", ".join("%g" % v for v in session.pixel_std))
    assert normalisation in report
    assert len(session.pixel_mean) == 3 and min(session.pixel_std) > 0


def test_batch(tmp_path, vit_run_binary, rng):
    import vitc
    from conftest import TINY
    path = vitc.compile(model="vit-ti16", out=tmp_path / "batch3.vitb",
                        random_weights=True, batch=3, extra_args=TINY)
    x = random_input(rng, (3, 3, 32, 32))
    np.save(tmp_path / "x.npy", x)
    vit_run(vit_run_binary, path, "--input", tmp_path / "x.npy", "--output",
            tmp_path / "logits.npy")
    with vitrt.Session(path) as session:
        assert session.batch == 3
        assert session.output_shape == (3, 10)
        logits = session.run(x)
        assert_same_logits(logits, np.load(tmp_path / "logits.npy"))
        assert vitrt.topk(logits, 2).indices.shape == (3, 2)


# -- inputs the session refuses ------------------------------------------


def test_wrong_shape(session, rng):
    x = random_input(rng)
    with pytest.raises(ValueError, match=re.escape(
            "input '%s': expected shape (1, 3, 32, 32), got (3, 32, 32); "
            "add the batch dimension" % session.inputs[0].name)):
        session.run(x[0])
    with pytest.raises(ValueError, match=re.escape(
            "expected shape (1, 3, 32, 32), got (1, 32, 32, 3); the model "
            "takes nchw")):
        session.run(np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
    with pytest.raises(ValueError, match=re.escape(
            "expected shape (1, 3, 32, 32), got (1, 3, 32, 31)")):
        session.run(x[..., :31])


def test_wrong_dtype(session, rng):
    x = random_input(rng)
    with pytest.raises(ValueError, match=re.escape(
            "expected dtype float32, got float64; convert it with "
            "x.astype(np.float32)")):
        session.run(x.astype(np.float64))
    with pytest.raises(ValueError, match="expected dtype float32, got >f4"):
        session.run(x.astype(">f4"))
    with pytest.raises(ValueError, match="expected dtype float32, got int32"):
        session.run(x.astype(np.int32))
    with pytest.raises(TypeError, match="expected a numpy.ndarray, got list"):
        session.run(x.tolist())
    with pytest.raises(ValueError, match="expected 1 input arrays, got 2"):
        session.run_all([x, x])


def test_non_contiguous_input_is_copied(session, rng):
    """A float32 view of the right shape (here the NHWC data of the same
    values, transposed) runs as its dense copy would."""
    x = random_input(rng)
    view = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    assert not view.flags.c_contiguous
    assert_same_logits(session.run(view), session.run(x))


# -- artifacts the runtime refuses ---------------------------------------


def test_bad_bytes():
    with pytest.raises(vitrt.Error) as caught:
        vitrt.Session(b"this is not a vitb file")
    assert caught.value.status == vitrt.Status.INVALID_ARTIFACT
    assert str(caught.value) == ("invalid artifact: not a .vitb file "
                                 "(missing the VITB identifier)")
    assert isinstance(caught.value, RuntimeError)


def test_truncated_artifact(tiny_model):
    data = pathlib.Path(tiny_model).read_bytes()
    with pytest.raises(vitrt.Error, match="^invalid artifact: ") as caught:
        vitrt.Session(data[:len(data) // 2])
    assert caught.value.status == vitrt.Status.INVALID_ARTIFACT


def test_corrupt_code(tiny_model, tmp_path):
    """One flipped bit in the kernel code (the lit tests' flip_bit.py):
    the runtime's checksum message, as vit-run prints it."""
    corrupt = tmp_path / "corrupt.vitb"
    subprocess.run([sys.executable,
                    REPO / "test/tools/vit-run/Inputs/flip_bit.py", "code",
                    tiny_model, corrupt], check=True)
    with pytest.raises(vitrt.Error) as caught:
        vitrt.Session(bytearray(corrupt.read_bytes()))
    assert caught.value.status == vitrt.Status.INVALID_ARTIFACT
    assert re.fullmatch(r"invalid artifact: kernel module 0 \(.+\) does not "
                        r"match its checksum: the file is corrupt",
                        str(caught.value))


def test_missing_file(tmp_path):
    missing = tmp_path / "missing.vitb"
    with pytest.raises(vitrt.Error) as caught:
        vitrt.Session(missing)
    assert caught.value.status == vitrt.Status.IO
    assert str(caught.value) == "%s: No such file or directory" % missing


def test_bad_arguments(tiny_model):
    with pytest.raises(TypeError, match="artifact must be a path"):
        vitrt.Session(42)
    with pytest.raises(ValueError, match="threads must be >= 0"):
        vitrt.Session(tiny_model, threads=-1)
    with pytest.raises(TypeError, match="threads must be an int"):
        vitrt.Session(tiny_model, threads="2")
    with pytest.raises(ValueError, match="device must be 'cpu', 'cuda'"):
        vitrt.Session(tiny_model, device="gpu")
    with pytest.raises(ValueError, match=re.escape(
            "device='cuda', but the artifact was compiled for cpu")):
        vitrt.Session(tiny_model, device="cuda")
    with pytest.raises(ValueError, match="compiled for cpu"):
        vitrt.Session(tiny_model, device=0)
    with vitrt.Session(tiny_model, device="cpu") as session:
        assert session.device == "cpu"


# -- CUDA artifacts, through the driver emulator ---------------------------


def test_cuda_artifact(tiny_cuda_model, cuda_emulator, vit_run_binary, rng,
                       tmp_path):
    """device and cuda_driver reach the runtime: the sm_90 model runs on
    the emulator and gives vit-run's logits bit for bit (same driver, same
    PTX, same input)."""
    x = random_input(rng)
    np.save(tmp_path / "x.npy", x)
    vit_run(vit_run_binary, tiny_cuda_model, "--input", tmp_path / "x.npy",
            "--output", tmp_path / "logits.npy",
            env=dict(os.environ, VITRT_CUDA_DRIVER=str(cuda_emulator)))
    with vitrt.Session(tiny_cuda_model, device="cuda:0",
                       cuda_driver=cuda_emulator) as session:
        assert session.target_kind == "cuda"
        assert session.target_name == "sm_90"
        assert session.device == "cuda:0"
        assert_same_logits(session.run(x), np.load(tmp_path / "logits.npy"))

    with pytest.raises(ValueError, match=re.escape(
            "device='cpu', but the artifact was compiled for cuda sm_90")):
        vitrt.Session(tiny_cuda_model, device="cpu",
                      cuda_driver=cuda_emulator)
    # The ordinal reaches the driver (the emulator has one device).
    with pytest.raises(vitrt.Error, match=re.escape(
            "CUDA device 1 does not exist (1 found)")) as caught:
        vitrt.Session(tiny_cuda_model, device=1, cuda_driver=cuda_emulator)
    assert caught.value.status == vitrt.Status.INVALID_ARGUMENT
    with pytest.raises(vitrt.Error) as caught:
        vitrt.Session(tiny_cuda_model, cuda_driver=tmp_path / "missing.so")
    assert caught.value.status == vitrt.Status.NO_DEVICE
    assert str(caught.value).startswith(
        "no CUDA driver found: cannot load %s" % (tmp_path / "missing.so"))


# -- kernel profiling ----------------------------------------------------


def test_kernel_profile(tiny_model, rng):
    """Every dispatch of every timed run is counted: 5 runs give exactly
    5/3 of the dispatches of 3 runs, kernel by kernel; turning profiling
    on again resets the totals, and off reports zeros."""
    x = random_input(rng)
    with vitrt.Session(tiny_model, threads=2) as session:
        assert all(kernel.dispatches == 0 and kernel.seconds == 0
                   for kernel in session.profile())
        counts = {}
        for runs in (3, 5):
            session.set_profiling(True)
            for _ in range(runs):
                session.run(x)
            counts[runs] = {kernel.name: kernel.dispatches
                            for kernel in session.profile()}
        assert counts[3] and all(count > 0 for count in counts[3].values())
        assert {name: 5 * count // 3 for name, count in counts[3].items()} \
            == counts[5]
        # One block of three layer norms (tiny_model has depth 1), in two
        # kernels: norm1 on every token, norm2 and the final norm on the
        # class token alone.
        assert counts[3]["blocks.0.norm1"] == 3
        assert counts[3]["blocks.0.norm2,norm"] == 2 * 3
        kernels = session.profile()
        assert [kernel.seconds for kernel in kernels] == sorted(
            (kernel.seconds for kernel in kernels), reverse=True)
        assert all(kernel.seconds > 0 and kernel.bytes_bound > 0
                   for kernel in kernels)
        assert sum(kernel.multiply_accumulates * kernel.dispatches
                   for kernel in kernels) == 5 * session.macs_per_image * \
            session.batch
        session.set_profiling(False)
        assert all(kernel.dispatches == 0 for kernel in session.profile())


def test_kernel_profile_refused_on_cuda(tiny_cuda_model, cuda_emulator):
    with vitrt.Session(tiny_cuda_model, cuda_driver=cuda_emulator) as session:
        with pytest.raises(vitrt.Error, match="kernel profiling needs a CPU "
                           "session") as caught:
            session.set_profiling(True)
        assert caught.value.status == vitrt.Status.UNSUPPORTED


# -- constructors, options, lifetime -------------------------------------


def test_bytes_and_path_constructors(tiny_model, rng):
    x = random_input(rng)
    data = pathlib.Path(tiny_model).read_bytes()
    with vitrt.Session(tiny_model) as session:
        expected = session.run(x)
    for artifact in (str(tiny_model), data, bytearray(data),
                     memoryview(data)):
        with vitrt.Session(artifact) as session:
            assert_same_logits(session.run(x), expected)


def test_threads_do_not_change_the_result(tiny_model, rng):
    x = random_input(rng)
    results = []
    for threads in (None, 0, 1, 2, 3):
        with vitrt.Session(tiny_model, threads=threads) as session:
            assert session.threads == (threads or 0)
            results.append(session.run(x))
    for result in results[1:]:
        assert_same_logits(result, results[0])


def test_close(tiny_model, rng):
    session = vitrt.Session(tiny_model)
    with session:
        session.run(random_input(rng))
    assert session.closed
    session.close()  # a second close does nothing
    with pytest.raises(ValueError, match="the session is closed"):
        session.run(random_input(rng))
    assert repr(session) == "<vitrt.Session (closed)>"


def test_outputs_are_fresh_arrays(session, rng):
    x = random_input(rng)
    first = session.run(x)
    second = session.run(x)
    assert first is not second and not np.shares_memory(first, second)
    assert_same_logits(first, second)


# -- threads and the GIL -------------------------------------------------


def test_sessions_on_threads(tiny_model, rng):
    """Two sessions run at once on two Python threads, and one session
    shared by two threads (its lock serialises the runs): every result is
    the single-threaded one, bit for bit."""
    inputs = [random_input(rng) for _ in range(8)]
    with vitrt.Session(tiny_model, threads=1) as session:
        expected = [session.run(x) for x in inputs]

    def work(session, results):
        for _ in range(5):
            results.append([session.run(x) for x in inputs])

    sessions = [vitrt.Session(tiny_model, threads=1) for _ in range(2)]
    shared = vitrt.Session(tiny_model, threads=2)
    results = [[] for _ in range(4)]
    threads = [threading.Thread(target=work, args=(s, r)) for s, r in
               zip(sessions + [shared, shared], results)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for session in sessions + [shared]:
        session.close()
    for per_thread in results:
        assert len(per_thread) == 5
        for run in per_thread:
            for actual, wanted in zip(run, expected):
                assert_same_logits(actual, wanted)


def test_gil_is_released_while_running(slow_model):
    """While one thread is inside a run, the others keep running Python.

    The main thread loops while a second thread makes one long run. Were
    the GIL held during the run, the main thread would stall for the whole
    of it; released, it is only ever paused for a switch interval (5 ms)
    or a scheduler slice. The bound, half the run (at least 50 ms, 200 ms
    on the development machine), leaves room for a loaded machine, whose
    slices grow but whose run grows too.
    """
    with vitrt.Session(slow_model, threads=1) as session:
        x = np.zeros(session.input_shape, dtype=np.float32)
        session.run(x)  # warm up (first-touch of the arena)
        start = time.perf_counter()
        session.run(x)
        duration = time.perf_counter() - start
        assert duration > 0.05, (
            "a run of the slow model takes %.1f ms: too short to measure"
            % (duration * 1e3))

        done = threading.Event()
        timing = {}

        def run_once():
            timing["start"] = time.perf_counter()
            session.run(x)
            timing["end"] = time.perf_counter()
            done.set()

        thread = threading.Thread(target=run_once)
        ticks = []
        thread.start()
        while not done.is_set():
            ticks.append(time.perf_counter())
        thread.join()

    during = [t for t in ticks if timing["start"] <= t <= timing["end"]]
    edges = [timing["start"]] + during + [timing["end"]]
    longest_pause = max(b - a for a, b in zip(edges, edges[1:]))
    run_time = timing["end"] - timing["start"]
    assert len(during) > 10, "the main thread did not run during the run"
    assert longest_pause < run_time / 2, (
        "the main thread stalled %.1f ms of a %.1f ms run" %
        (longest_pause * 1e3, run_time * 1e3))


# -- topk ----------------------------------------------------------------


def test_topk_ranking():
    logits = np.array([[0.5, 2.0, np.nan, 2.0, -1.0],
                       [3.0, 1.0, 1.0, 1.0, 0.0]], dtype=np.float32)
    top = vitrt.topk(logits, 3)
    # Ties to the lower index, NaN last (vit-run's ranking).
    assert top.indices.tolist() == [[1, 3, 0], [0, 1, 2]]
    assert top.values.tolist() == [[2.0, 2.0, 0.5], [3.0, 1.0, 1.0]]
    assert vitrt.topk(logits[0], 5).indices.tolist() == [1, 3, 0, 4, 2]
    # k is capped at the class count.
    assert vitrt.topk(logits, 50).indices.shape == (2, 5)
    indices, values = vitrt.topk(logits[1], 1)
    assert indices.tolist() == [0] and values.tolist() == [3.0]


def test_topk_errors():
    with pytest.raises(ValueError, match="k must be >= 1"):
        vitrt.topk(np.zeros(3), 0)
    with pytest.raises(TypeError, match="k must be an int"):
        vitrt.topk(np.zeros(3), 2.0)
    with pytest.raises(ValueError, match="scalar"):
        vitrt.topk(np.float32(1.0), 1)


# -- finding the library -------------------------------------------------


def python(code, **environment):
    """Runs code in a fresh interpreter (the library is loaded once per
    process), with the packages of this source tree."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"), **environment)
    return subprocess.run([sys.executable, "-c", code], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


def test_library_from_environment(tiny_model):
    library = vitrt.library_path()
    result = python("import vitrt; s = vitrt.Session(%r); "
                    "print(vitrt.library_path())" % str(tiny_model),
                    VITRT_LIBRARY=str(library))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(library)


def test_missing_library_is_named(tmp_path, tiny_model):
    missing = tmp_path / "libvitrt.so"
    result = python("import vitrt; vitrt.Session(%r)" % str(tiny_model),
                    VITRT_LIBRARY=str(missing))
    assert result.returncode != 0
    assert ("vitrt._library.LibraryNotFoundError: %s does not exist (set by "
            "VITRT_LIBRARY)" % missing) in result.stderr
    # Importing does not need the library.
    result = python("import vitrt; print(vitrt.topk([1.0, 2.0], 1).indices)",
                    VITRT_LIBRARY=str(missing))
    assert result.returncode == 0 and result.stdout.strip() == "[1]"


def test_not_a_library(tmp_path, tiny_model):
    result = python("import vitrt; vitrt.Session(%r)" % str(tiny_model),
                    VITRT_LIBRARY=str(tiny_model))
    assert result.returncode != 0
    assert "LibraryNotFoundError: cannot load %s" % tiny_model in \
        result.stderr


def test_version_matches_cmake():
    import vitc
    cmake = (REPO / "CMakeLists.txt").read_text()
    version = re.search(r'set\(VITC_VERSION "([^"]+)"\)', cmake).group(1)
    assert vitrt.__version__ == version
    assert vitc.__version__ == version
