#!/usr/bin/env python3
"""The CPU peers benchmark: vitc, ONNX Runtime and OpenVINO on ViT-B/16 (or
another of vitc's timm-layout presets, --model).

All three run the same weights on the same inputs, in this one process:
vitc draws seeded random weights and saves them as safetensors; vitc
compiles one artifact per batch size from that file, which runs in-process
through the vitrt C API (ctypes on libvitrt.so); benchmarks/vit_onnx.py
rebuilds the same model from the file as an ONNX graph, which ONNX Runtime
(CPU execution provider) and OpenVINO (CPU plugin, fp32 forced) run.

For each (batch, threads) configuration the script checks ONNX Runtime's
and OpenVINO's logits against vitc's, then times the runtimes interleaved,
round-robin (vitc, ONNX Runtime, OpenVINO, vitc, ...), so that noise from
other processes hits all of them alike. It measures the machine's FMA peak
with its own kernel (benchmarks/fma_peak.c), prints one table (p50 latency,
images/s, GFLOP/s and the share of the FMA peak) and draws a bar chart.

    scripts/setup_peers.sh                       # the venv, once
    build/peers-venv/bin/python benchmarks/peers.py
    build/peers-venv/bin/python benchmarks/peers.py --depth 1 --batch 1 \\
        --threads 1 --iterations 3 --chart none  # a quick check
    build/peers-venv/bin/python benchmarks/peers.py --model vit-l16 \\
        --chart none                             # another of the family

Described in docs/benchmarks.md.
"""

import argparse
import ctypes
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIMES = ("vitc", "onnxruntime", "openvino")
LABELS = {"vitc": "vitc", "onnxruntime": "ONNX Runtime",
          "openvino": "OpenVINO"}
SETUP_HINT = ("set up the venv with scripts/setup_peers.sh and run "
              "build/peers-venv/bin/python benchmarks/peers.py")


def fail(message):
    sys.exit(f"peers: error: {message}")


# Third-party packages: a missing one is reported by name in main(), after
# the options say which are needed.
MISSING = {}
try:
    import numpy as np
except ImportError as error:
    MISSING["numpy"] = error
try:
    import onnx
    from vit_onnx import PRESETS, ViTConfig, build_onnx_model, read_safetensors
except ImportError as error:
    MISSING["onnx"] = error
try:
    import onnxruntime as ort
except ImportError as error:
    MISSING["onnxruntime"] = error
try:
    import openvino as ov
except ImportError as error:
    MISSING["openvino"] = error


# --- vitc in-process: the vitrt C API (include/vitc/Runtime/vitrt.h) -------

class VitrtOptions(ctypes.Structure):
    _fields_ = [("num_threads", ctypes.c_int),
                ("device", ctypes.c_int),
                ("cuda_driver", ctypes.c_char_p)]


class VitrtTensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p),
                ("rank", ctypes.c_int),
                ("dims", ctypes.POINTER(ctypes.c_int64))]


class VitrtKernelProfile(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p),
                ("multiply_accumulates", ctypes.c_int64),
                ("bytes_bound", ctypes.c_int64),
                ("dispatches", ctypes.c_int64),
                ("seconds", ctypes.c_double)]


def load_vitrt(path):
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as error:
        fail(f"cannot load the vitc runtime {path}: {error}")
    session_p = ctypes.c_void_p
    signatures = {
        "vitrt_options_init": (None, [ctypes.POINTER(VitrtOptions)]),
        "vitrt_last_error": (ctypes.c_char_p, []),
        "vitrt_session_create_from_file": (
            ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(VitrtOptions),
                           ctypes.POINTER(session_p)]),
        "vitrt_session_destroy": (None, [session_p]),
        "vitrt_session_input_count": (ctypes.c_size_t, [session_p]),
        "vitrt_session_output_count": (ctypes.c_size_t, [session_p]),
        "vitrt_session_input_info": (
            ctypes.c_int, [session_p, ctypes.c_size_t,
                           ctypes.POINTER(VitrtTensorInfo)]),
        "vitrt_session_output_info": (
            ctypes.c_int, [session_p, ctypes.c_size_t,
                           ctypes.POINTER(VitrtTensorInfo)]),
        "vitrt_session_target_kind": (ctypes.c_char_p, [session_p]),
        "vitrt_session_target_name": (ctypes.c_char_p, [session_p]),
        "vitrt_session_input_layout": (ctypes.c_char_p, [session_p]),
        "vitrt_session_macs_per_image": (ctypes.c_int64, [session_p]),
        "vitrt_session_run": (
            ctypes.c_int, [session_p, ctypes.POINTER(ctypes.c_void_p),
                           ctypes.POINTER(ctypes.c_void_p)]),
        "vitrt_session_set_profiling": (ctypes.c_int, [session_p,
                                                       ctypes.c_int]),
        "vitrt_session_kernel_count": (ctypes.c_size_t, [session_p]),
        "vitrt_session_kernel_profile": (
            ctypes.c_int, [session_p, ctypes.c_size_t,
                           ctypes.POINTER(VitrtKernelProfile)]),
    }
    for name, (restype, argtypes) in signatures.items():
        try:
            function = getattr(lib, name)
        except AttributeError:
            fail(f"{path} has no function {name}: an old or foreign libvitrt?")
        function.restype, function.argtypes = restype, argtypes
    return lib


class VitcRunner:
    """A vitrt session of one artifact; run() writes into one output buffer."""

    name = "vitc"

    def __init__(self, lib, artifact, threads):
        self.lib = lib
        options = VitrtOptions()
        lib.vitrt_options_init(ctypes.byref(options))
        options.num_threads = threads
        self.handle = ctypes.c_void_p()
        self.check(lib.vitrt_session_create_from_file(
            str(artifact).encode(), ctypes.byref(options),
            ctypes.byref(self.handle)), f"loading {artifact}")
        kind = lib.vitrt_session_target_kind(self.handle).decode()
        if kind != "cpu":
            fail(f"{artifact} targets {kind}, not the CPU")
        self.target = lib.vitrt_session_target_name(self.handle).decode()
        self.layout = lib.vitrt_session_input_layout(self.handle).decode()
        self.macs_per_image = lib.vitrt_session_macs_per_image(self.handle)
        if (lib.vitrt_session_input_count(self.handle) != 1
                or lib.vitrt_session_output_count(self.handle) != 1):
            fail(f"{artifact}: expected one input and one output")
        self.input_shape = self.shape(lib.vitrt_session_input_info)
        self.output = np.empty(self.shape(lib.vitrt_session_output_info),
                               np.float32)
        self.outputs = (ctypes.c_void_p * 1)(self.output.ctypes.data)
        self.inputs = None
        self.bound_input = None

    def check(self, status, what):
        if status != 0:
            fail(f"vitrt: {what}: "
                 f"{self.lib.vitrt_last_error().decode() or f'status {status}'}")

    def shape(self, info_function):
        info = VitrtTensorInfo()
        self.check(info_function(self.handle, 0, ctypes.byref(info)),
                   "tensor info")
        return tuple(info.dims[i] for i in range(info.rank))

    def run(self, x):
        if x is not self.bound_input:
            if x.shape != self.input_shape or x.dtype != np.float32 \
                    or not x.flags.c_contiguous:
                fail(f"vitc expects a contiguous float32 input of shape "
                     f"{self.input_shape}, got {x.dtype} {x.shape}")
            self.bound_input = x
            self.inputs = (ctypes.c_void_p * 1)(x.ctypes.data)
        self.check(self.lib.vitrt_session_run(self.handle, self.inputs,
                                              self.outputs), "run")
        return self.output

    def set_profiling(self, enabled):
        """Turns the kernel profile on (resetting it) or off."""
        self.check(self.lib.vitrt_session_set_profiling(self.handle,
                                                        int(enabled)),
                   "profiling")

    def kernel_seconds(self, name):
        """Wall time of kernel `name`'s dispatches since profiling began."""
        profile = VitrtKernelProfile()
        for index in range(self.lib.vitrt_session_kernel_count(self.handle)):
            self.check(self.lib.vitrt_session_kernel_profile(
                self.handle, index, ctypes.byref(profile)), "kernel profile")
            if profile.name.decode() == name:
                return profile.seconds
        fail(f"the artifact has no kernel named {name}")

    def close(self):
        if self.handle:
            self.lib.vitrt_session_destroy(self.handle)
            self.handle = ctypes.c_void_p()


class OrtRunner:
    name = "onnxruntime"

    def __init__(self, onnx_path, threads):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = \
            ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"])

    def run(self, x):
        return self.session.run(["logits"], {"input": x})[0]

    def close(self):
        self.session = None


# Element types OpenVINO may execute an fp32 model's layers in; anything
# else (bf16, f16, i8, u8, ...) would be a lower-precision run.
OPENVINO_FP32_TYPES = {"f32", "i64", "i32", "boolean", "undefined", "dynamic", ""}


class OpenVinoRunner:
    name = "openvino"

    def __init__(self, core, onnx_path, batch, threads, config,
                 profile=False):
        """With `profile`, the request keeps per-layer counters
        (PERF_COUNT: request.get_profiling_info(), benchmarks/layers.py)."""
        model = core.read_model(str(onnx_path))
        # A static batch, as vitc's artifact has.
        model.reshape({"input": [batch, config.channels, config.image,
                                 config.image]})
        self.compiled = core.compile_model(model, "CPU", {
            "INFERENCE_NUM_THREADS": threads,
            # fp32, not bf16 (the default on CPUs with AMX or AVX-512
            # BF16) nor dynamically quantized int8.
            "INFERENCE_PRECISION_HINT": "f32",
            "DYNAMIC_QUANTIZATION_GROUP_SIZE": 0,
            # One synchronous request at a time, as the others run.
            "PERFORMANCE_HINT": "LATENCY",
            "NUM_STREAMS": 1,
            "PERF_COUNT": profile,
        })
        precision = self.compiled.get_property("INFERENCE_PRECISION_HINT")
        if precision != ov.Type.f32:
            fail(f"OpenVINO compiled the model with inference precision "
                 f"{precision}, not f32")
        used = int(self.compiled.get_property("INFERENCE_NUM_THREADS"))
        if used != threads:
            fail(f"OpenVINO uses {used} threads, not {threads}")
        # What the layers actually execute in (the hint is only a hint).
        lower = set()
        for op in self.compiled.get_runtime_model().get_ordered_ops():
            info = op.get_rt_info()
            for key in ("runtimePrecision", "outputPrecisions"):
                if key in info:
                    for name in info[key].astype(str).lower().split(","):
                        if name.strip() not in OPENVINO_FP32_TYPES:
                            lower.add(f"{name.strip()} "
                                      f"({info['layerType'].astype(str)})")
        if lower:
            fail(f"OpenVINO runs layers in {', '.join(sorted(lower))} "
                 "despite INFERENCE_PRECISION_HINT f32")
        self.request = self.compiled.create_infer_request()

    def run(self, x):
        self.request.infer({0: x}, share_inputs=True)
        return self.request.get_output_tensor(0).data

    def close(self):
        self.request = self.compiled = None


# --- the machine ---------------------------------------------------------

def cpuinfo():
    """The first processor's fields of /proc/cpuinfo, and its core count."""
    fields, cores = {}, set()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return fields, None
    processor = {}
    for line in text.splitlines() + [""]:
        if not line.strip():
            if processor:
                if not fields:
                    fields = dict(processor)
                if "physical id" in processor and "core id" in processor:
                    cores.add((processor["physical id"], processor["core id"]))
            processor = {}
            continue
        key, _, value = line.partition(":")
        processor[key.strip()] = value.strip()
    return fields, len(cores) or None


def command_output(command):
    try:
        return subprocess.run(command, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def describe_machine(args, runtimes):
    fields, physical = cpuinfo()
    flags = set(fields.get("flags", "").split())
    isa = [flag for flag in ("avx2", "fma", "avx512f", "avx512_bf16",
                             "avx512_vnni", "amx_tile", "amx_bf16")
           if flag in flags]
    memory = None
    try:
        match = re.search(r"MemTotal:\s+(\d+) kB",
                          Path("/proc/meminfo").read_text())
        memory = int(match.group(1)) / 2 ** 20 if match else None
    except OSError:
        pass
    commit = command_output(["git", "-C", str(ROOT), "rev-parse", "--short",
                             "HEAD"]) or "unknown"
    if command_output(["git", "-C", str(ROOT), "status", "--porcelain",
                       "--untracked-files=no"]):
        commit += " with uncommitted changes"
    versions = [f"Python {platform.python_version()}",
                f"numpy {np.__version__}", f"onnx {onnx.__version__}"]
    if "onnxruntime" in runtimes:
        versions.append(f"ONNX Runtime {ort.__version__}")
    if "openvino" in runtimes:
        versions.append(f"OpenVINO {ov.get_version().split('-')[0]}")
    vitc_version = command_output([str(args.bin / "vitc"), "--version"])
    # With family and model, in the chart's title too: "AMD EPYC" alone is
    # a Zen 3, 4 or 5.
    cpu_name = (f"{fields.get('model name', 'unknown CPU')}"
                f" (family {fields.get('cpu family', '?')}"
                f" model {fields.get('model', '?')})")
    lines = [
        f"CPU:      {cpu_name}",
        f"ISA:      {' '.join(isa) or 'none of avx2/avx512f/amx'}",
        f"cores:    {len(os.sched_getaffinity(0))} usable CPUs, "
        f"{os.cpu_count()} online, "
        f"{physical if physical else 'unknown'} physical cores",
        f"memory:   {memory:.1f} GiB" if memory else "memory:   unknown",
        f"load:     {os.getloadavg()[0]:.2f} (1-minute average; other "
        "processes skew both the peak and the timings)",
        f"system:   {platform.platform()}",
        f"vitc:     {vitc_version or 'unknown'}, commit {commit}"
        + (f", flags {' '.join(args.vitc_flag)}" if args.vitc_flag else ""),
        f"software: {', '.join(versions)}",
    ]
    return lines, physical, cpu_name


def c_compiler(requested):
    candidates = [requested] if requested else [
        "/usr/lib/llvm-22/bin/clang", os.environ.get("CC"), "cc", "clang",
        "gcc"]
    for candidate in candidates:
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    fail(f"no C compiler found (tried {', '.join(c for c in candidates if c)});"
         " pass --cc")


def measure_fma_peak(args, workdir, thread_counts, isa="auto"):
    """{threads: GFLOP/s} from benchmarks/fma_peak.c, and a description.
    `isa` (auto, avx2 or avx512) picks the vectors the peak is measured
    with; auto is the widest the host has."""
    source = ROOT / "benchmarks" / "fma_peak.c"
    compiler = c_compiler(args.cc)
    binary = workdir / f"fma_peak-{Path(compiler).name}"
    # Compiled once per work folder and compiler: gemm.py measures the peak
    # every round.
    if not binary.exists():
        run_tool([compiler, "-O2", "-pthread", source, "-o", binary],
                 "compiling fma_peak.c")
    # One thread as well: the reference for the all-thread figure.
    thread_counts = sorted({1, *thread_counts})
    output = run_tool([binary, "-s", str(args.fma_seconds), "-i", isa,
                       *map(str, thread_counts)], "fma_peak")
    isa = re.search(r"^isa (\w+) lanes (\d+) chains (\d+)", output, re.M)
    peaks = {int(t): float(g) for t, g in
             re.findall(r"^peak threads (\d+) gflops ([0-9.]+)", output, re.M)}
    if not isa or set(peaks) != set(thread_counts):
        fail(f"could not read fma_peak's report:\n{output}")
    name, lanes, chains = isa.groups()
    described = (f"{name}, {chains} chains of {lanes}-lane FMAs per thread, "
                 f"{Path(compiler).name} -O2")
    return peaks, described


# --- running and timing ----------------------------------------------------

def run_tool(command, what):
    command = [str(part) for part in command]
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except OSError as error:
        fail(f"{what}: cannot run {command[0]}: {error}")
    if result.returncode != 0:
        fail(f"{what} failed ({' '.join(command)}):\n"
             f"{result.stderr.strip() or result.stdout.strip()}")
    return result.stdout + result.stderr


def compare(logits, reference):
    """max |a - b|, that relative to max |reference|, top-1 agreement, and
    whether every top-1 disagreement is explained by a near tie."""
    diff = np.abs(logits - reference)
    worst = float(diff.max())
    # Relative to the largest logit: element-wise ratios blow up near 0.
    relative = worst / float(np.abs(reference).max())
    agree = logits.argmax(1) == reference.argmax(1)
    # An image may flip only if its two best logits are closer than the
    # differences between the runtimes could move them.
    top2 = np.sort(reference, axis=1)[:, -2:]
    near_tie = (top2[:, 1] - top2[:, 0]) <= 2 * diff.max(axis=1)
    return worst, relative, float(agree.mean()), bool(np.all(agree | near_tie))


def percentile50(times):
    """Nearest-rank median, as vit-run --benchmark defines p50."""
    return sorted(times)[(len(times) + 1) // 2 - 1]


def parse_threads(values):
    usable = len(os.sched_getaffinity(0))
    counts = []
    for value in values:
        if value == "all":
            count = usable
        elif value.isdigit() and int(value) > 0:
            count = int(value)
        else:
            fail(f"--threads takes positive numbers or 'all', not '{value}'")
        if count not in counts:
            counts.append(count)
    return counts


def draw_chart(path, rows, peaks, flops_per_image, runtimes, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = []
    for row in rows:
        key = (row["batch"], row["threads"])
        if key not in groups:
            groups.append(key)
    width = 0.8 / len(runtimes)
    colors = {"vitc": "#d62728", "onnxruntime": "#1f77b4",
              "openvino": "#2ca02c"}
    figure, axes = plt.subplots(figsize=(3.6 + 1.9 * len(groups), 4.8))
    for index, runtime in enumerate(runtimes):
        xs, ys = [], []
        for group, (batch, threads) in enumerate(groups):
            for row in rows:
                if (row["runtime"], row["batch"], row["threads"]) == \
                        (runtime, batch, threads):
                    xs.append(group - 0.4 + width * (index + 0.5))
                    ys.append(row["images_per_s"])
        bars = axes.bar(xs, ys, width * 0.92, label=LABELS[runtime],
                        color=colors[runtime])
        axes.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
    # The images/s the measured FMA peak would give at those threads.
    for group, (batch, threads) in enumerate(groups):
        ceiling = peaks[threads] * 1e9 / flops_per_image
        axes.hlines(ceiling, group - 0.45, group + 0.45, colors="black",
                    linestyles="dashed", linewidth=1,
                    label="measured FMA peak" if group == 0 else None)
        axes.annotate(f"{ceiling:.1f}", (group + 0.45, ceiling),
                      textcoords="offset points", xytext=(0, 2), ha="right",
                      va="bottom", fontsize=7)
    axes.set_xticks(range(len(groups)))
    axes.set_xticklabels([f"batch {batch}\n{threads} thread"
                          f"{'s' if threads > 1 else ''}"
                          for batch, threads in groups])
    axes.set_ylabel("images/s (higher is better)")
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def file_stem(args, config):
    """The model's files in the work directory: vit_b16_d12 and so on."""
    return f"{args.model.replace('-', '_')}_d{config.depth}"


def benchmark(args, config, workdir, weights_path, onnx_path, runtimes,
              thread_counts, lib, core):
    """Checks and times every configuration; returns (rows, checks)."""
    model_flags = ["--model", args.model, "--depth", str(config.depth)]
    rows, checks = [], []
    for batch in args.batch:
        artifact = workdir / f"{file_stem(args, config)}_b{batch}.vitb"
        if "vitc" in runtimes:
            print(f"compiling {artifact.name} with vitc ...", flush=True)
            run_tool([args.bin / "vitc", *model_flags, "--weights",
                      weights_path, "--batch", batch, *args.vitc_flag, "-o",
                      artifact], "vitc")
        rng = np.random.default_rng(args.seed + batch)
        x = rng.uniform(-1, 1, (batch, config.channels, config.image,
                                config.image)).astype(np.float32)

        for threads in thread_counts:
            print(f"batch {batch}, {threads} thread(s): loading "
                  f"{', '.join(LABELS[r] for r in runtimes)} ...", flush=True)
            runners = []
            for runtime in runtimes:
                if runtime == "vitc":
                    runner = VitcRunner(lib, artifact, threads)
                    if runner.layout != "nchw":
                        fail(f"{artifact} takes {runner.layout} input; "
                             "the ONNX graph takes nchw")
                    expected = config.class_token_macs_per_image()
                    if runner.macs_per_image != expected:
                        fail(f"{artifact} reports {runner.macs_per_image} "
                             f"MACs per image, this script counts "
                             f"{expected}: the script's "
                             f"ViTConfig is not vitc's {args.model} preset")
                elif runtime == "onnxruntime":
                    runner = OrtRunner(onnx_path, threads)
                else:
                    runner = OpenVinoRunner(core, onnx_path, batch, threads,
                                            config)
                runners.append(runner)

            # Numerics: the first run of each, against vitc's logits (the
            # first runtime's when vitc is not among them).
            logits = [np.array(runner.run(x), copy=True) for runner in runners]
            if args.workdir:
                np.save(workdir / f"input_b{batch}.npy", x)
                for runner, out in zip(runners, logits):
                    np.save(workdir / f"logits_{runner.name}_b{batch}"
                            f"_t{threads}.npy", out)
            for runner, out in zip(runners[1:], logits[1:]):
                worst, relative, top1, ties_only = compare(out, logits[0])
                checks.append(dict(runtime=runner.name,
                                   reference=runners[0].name, batch=batch,
                                   threads=threads, worst=worst,
                                   relative=relative, top1=top1,
                                   ok=relative <= args.bound and ties_only))

            for _ in range(args.warmup):
                for runner in runners:
                    runner.run(x)
            # Interleaved, round-robin: noise from the rest of the machine
            # falls on every runtime alike. The pause before each run lets
            # the previous runtime's worker threads stop spinning.
            times = {runner.name: [] for runner in runners}
            for _ in range(args.iterations):
                for runner in runners:
                    time.sleep(args.gap_ms / 1000.0)
                    start = time.perf_counter()
                    runner.run(x)
                    times[runner.name].append(time.perf_counter() - start)
            for runner in runners:
                runner.close()
            del runners

            summary = []
            for runtime in runtimes:
                samples = times[runtime]
                images_per_s = batch / (sum(samples) / len(samples))
                rows.append(dict(runtime=runtime, threads=threads, batch=batch,
                                 p50_ms=percentile50(samples) * 1000.0,
                                 images_per_s=images_per_s))
                summary.append(f"{LABELS[runtime]} {images_per_s:.2f}")
            print(f"  images/s: {', '.join(summary)}", flush=True)
    return rows, checks


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8],
                        help="batch sizes, one vitc artifact each (default: 1 8)")
    parser.add_argument("--threads", nargs="+", default=["1", "all"],
                        help="thread counts; 'all' is every CPU this process "
                             "may run on (default: 1 all)")
    parser.add_argument("--runtimes", nargs="+", choices=RUNTIMES,
                        default=list(RUNTIMES),
                        help="what to run, in this order; logits are checked "
                             "against the first's (default: all three, vitc "
                             "first)")
    parser.add_argument("--model", default="vit-b16",
                        help="the vitc preset to compile and rebuild as "
                             "ONNX, one in timm's layout (vitc --list-models; "
                             "default: %(default)s)")
    parser.add_argument("--depth", type=int,
                        help="encoder blocks, fewer for a quick check "
                             "(default: the preset's, 12 or 24 for vit-l16)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed runs of each runtime per configuration "
                             "(default: %(default)s)")
    parser.add_argument("--iterations", type=int, default=20,
                        help="timed runs of each runtime per configuration "
                             "(default: %(default)s)")
    parser.add_argument("--gap-ms", type=float, default=20.0,
                        help="pause before each timed run (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the weights and inputs (default: %(default)s)")
    parser.add_argument("--bound", type=float, default=1e-3,
                        help="largest allowed max |peer - vitc| / max |vitc| "
                             "over the logits (default: %(default)s)")
    parser.add_argument("--fma-seconds", type=float, default=0.5,
                        help="duration of each FMA peak run (default: %(default)s)")
    parser.add_argument("--chart", default=str(ROOT / "docs" /
                                               "peers-benchmark.png"),
                        help="bar chart to write, or 'none' (default: "
                             "docs/peers-benchmark.png)")
    parser.add_argument("--bin", type=Path, default=ROOT / "build" / "bin",
                        help="directory of vitc (default: build/bin)")
    parser.add_argument("--vitc-flag", action="append", default=[],
                        metavar="FLAG",
                        help="a further vitc flag for compiling the model, "
                             "repeatable (e.g. --vitc-flag=--cpu-tile=24x64)")
    parser.add_argument("--vitrt", type=Path,
                        default=ROOT / "build" / "lib" / "libvitrt.so",
                        help="the vitc runtime library (default: "
                             "build/lib/libvitrt.so)")
    parser.add_argument("--cc", help="C compiler for fma_peak.c (default: "
                        "/usr/lib/llvm-22/bin/clang, $CC, cc, clang or gcc)")
    parser.add_argument("--workdir", type=Path,
                        help="keep weights, ONNX model, artifacts, inputs and "
                             "logits here (default: a temporary directory)")
    args = parser.parse_args()

    # In the order given: the first is the numerical reference, and the
    # round-robin follows it.
    runtimes = list(dict.fromkeys(args.runtimes))
    if (args.depth is not None and args.depth < 1) or args.warmup < 0 \
            or args.iterations < 1 or min(args.batch) < 1 or args.gap_ms < 0:
        fail("--depth, --iterations and --batch must be positive, "
             "--warmup and --gap-ms not negative")
    chart = None if args.chart == "none" else Path(args.chart)
    needed = ["numpy", "onnx"] + [r for r in runtimes if r != "vitc"]
    missing = [name for name in needed if name in MISSING]
    if chart and importlib.util.find_spec("matplotlib") is None:
        missing.append("matplotlib")
    if missing:
        fail(f"{sys.executable} lacks the Python package(s) "
             f"{', '.join(missing)}: {SETUP_HINT} (or pass --chart none / "
             "--runtimes to do without)")
    if args.model not in PRESETS:
        fail(f"--model: '{args.model}' is not one of "
             f"{', '.join(PRESETS)} (vitc's presets in timm's layout)")
    if not os.access(args.bin / "vitc", os.X_OK):
        fail(f"{args.bin / 'vitc'} not found: build vitc first "
             "(scripts/setup.sh) or pass --bin")
    lib = None
    if "vitc" in runtimes:
        if not args.vitrt.exists():
            fail(f"{args.vitrt} not found: build vitc first (scripts/setup.sh)"
                 " or pass --vitrt")
        lib = load_vitrt(args.vitrt)
    thread_counts = parse_threads(args.threads)
    config = ViTConfig.preset(args.model, args.depth)
    model_name = PRESETS[args.model][0]
    flops_per_image = 2 * config.macs_per_image()

    temporary = None
    if args.workdir:
        workdir = args.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        temporary = tempfile.TemporaryDirectory(prefix="vitc-peers-")
        workdir = Path(temporary.name)

    machine, physical, cpu_name = describe_machine(args, runtimes)
    print("== Machine")
    for line in machine:
        print(line)
    print(flush=True)

    print("== FMA peak (benchmarks/fma_peak.c)", flush=True)
    peaks, peak_description = measure_fma_peak(args, workdir, thread_counts)
    print(peak_description)
    for threads, gflops in sorted(peaks.items()):
        print(f"{threads} thread(s): {gflops:.1f} GFLOP/s fp32")
    for threads, gflops in peaks.items():
        # Threads beyond the physical cores share their FMA units.
        cores = min(threads, physical or threads)
        if gflops < 0.8 * cores * peaks[1]:
            print(f"warning: {threads} threads reach only "
                  f"{gflops / peaks[1]:.2f}x the one-thread peak on "
                  f"{cores} cores: other processes are using the CPUs "
                  "(see the load above), or these CPUs share FMA units; "
                  "the percentages below are against the measured peak")
    print(flush=True)

    print(f"== {model_name}, depth {config.depth}: "
          f"{config.macs_per_image() / 1e9:.3f} GMACs, "
          f"{flops_per_image / 1e9:.2f} GFLOP per image (GFLOP/s below count "
          "these for every runtime; vitc computes "
          f"{config.class_token_macs_per_image() / 1e9:.3f} GMACs, its last "
          "block's query, attention, projection and MLP on the class "
          "token alone)", flush=True)
    weights_path = workdir / f"{file_stem(args, config)}.safetensors"
    run_tool([args.bin / "vitc", "--model", args.model, "--depth",
              config.depth, "--random-weights", "--seed", args.seed,
              "--save-weights", weights_path, "--summary"], "vitc")
    onnx_path = None
    if any(r != "vitc" for r in runtimes):
        onnx_path = workdir / f"{file_stem(args, config)}.onnx"
        try:
            model = build_onnx_model(read_safetensors(weights_path), config)
        except (KeyError, ValueError) as error:
            fail(f"building the ONNX graph from {weights_path}: {error}")
        onnx.save(model, str(onnx_path))
        del model
    core = ov.Core() if "openvino" in runtimes else None

    rows, checks = benchmark(args, config, workdir, weights_path, onnx_path,
                             runtimes, thread_counts, lib, core)
    print()

    if checks:
        print(f"== Numerics: logits against {LABELS[runtimes[0]]}'s "
              f"(bound {args.bound:g} of the largest logit)")
        print("| Runtime | Threads | Batch | max abs diff | relative to max "
              "| top-1 agreement | check |")
        print("|---|--:|--:|--:|--:|--:|---|")
        for c in checks:
            print(f"| {LABELS[c['runtime']]} | {c['threads']} | {c['batch']} "
                  f"| {c['worst']:.2e} | {c['relative']:.2e} | {c['top1']:.0%} "
                  f"| {'ok' if c['ok'] else 'FAILED'} |")
        print()

    print(f"== Timing: {args.warmup} warm-up and {args.iterations} timed runs "
          "of each runtime per row, interleaved round-robin; images/s = batch "
          "/ mean latency")
    print("| Runtime | Threads | Batch | p50 latency (ms) | Images/s "
          "| GFLOP/s | % of FMA peak |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for row in rows:
        gflops = row["images_per_s"] * flops_per_image / 1e9
        print(f"| {LABELS[row['runtime']]} | {row['threads']} | {row['batch']} "
              f"| {row['p50_ms']:.1f} | {row['images_per_s']:.2f} "
              f"| {gflops:.1f} | {100 * gflops / peaks[row['threads']]:.0f}% |")
    # The table's GFLOP/s count the model's work for every runtime; vitc's
    # kernels do less of it (the last block on the class token alone: 7%
    # at depth 12, most of a one-block model), which can put its share of
    # the peak above 100% for shallow models.
    computed_flops = 2 * config.class_token_macs_per_image()
    vitc_rows = [row for row in rows if row["runtime"] == "vitc"]
    if vitc_rows:
        figures = []
        for row in vitc_rows:
            gflops = row["images_per_s"] * computed_flops / 1e9
            figures.append(f"batch {row['batch']} / {row['threads']} "
                           f"thread(s) {gflops:.1f} GFLOP/s, "
                           f"{100 * gflops / peaks[row['threads']]:.0f}% of "
                           "the peak")
        print()
        print(f"vitc by the work its kernels do "
              f"({computed_flops / 2e9:.3f} GMACs per image): "
              + ", ".join(figures))
    if "vitc" in runtimes and len(runtimes) > 1:
        print()
        for batch in args.batch:
            for threads in thread_counts:
                here = {r["runtime"]: r["images_per_s"] for r in rows
                        if (r["batch"], r["threads"]) == (batch, threads)}
                best = max((r for r in here if r != "vitc"), key=here.get)
                print(f"batch {batch}, {threads} thread(s): vitc has "
                      f"{here['vitc'] / here[best]:.2f}x the throughput of "
                      f"the faster peer ({LABELS[best]})")

    if chart:
        if config.depth != ViTConfig.preset(args.model).depth:
            model_name += f" with {config.depth} blocks"
        title = f"{model_name}, fp32, {cpu_name}" + (
            f", vitc {' '.join(args.vitc_flag)}" if args.vitc_flag else "")
        draw_chart(chart, rows, peaks, flops_per_image, runtimes, title)
        print(f"\nchart: {chart}")

    if temporary:
        temporary.cleanup()
    failed = [c for c in checks if not c["ok"]]
    if failed:
        for c in failed:
            print(f"peers: error: {LABELS[c['runtime']]}'s logits differ from "
                  f"{LABELS[c['reference']]}'s at batch {c['batch']}, "
                  f"{c['threads']} thread(s): max |diff| / max |logit| = "
                  f"{c['relative']:.2e} (bound {args.bound:g}), top-1 "
                  f"agreement {c['top1']:.0%}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
