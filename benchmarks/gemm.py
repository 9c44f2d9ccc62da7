#!/usr/bin/env python3
"""The GEMM micro-benchmark: ViT-B/16's linears, one kernel at a time.

Each linear of a ViT-B/16 encoder block (qkv, proj, fc1, fc2: 197 x batch
rows, K and N of the model, the model's epilogue: bias, exact GELU after
fc1, the residual added after proj and fc2) is written as a vit dialect
module, compiled by vitc from seeded random weights into its own artifact,
and run in this process through the vitrt C API (ctypes on libvitrt.so, as
benchmarks/peers.py does). As in the model, the linear reads its input
from another kernel (an element-wise GELU of the module's input), so it
reads it in the layout the model's kernels pass between them (fc2's rows
padded, docs/codegen-cpu.md#padded-rows); only the linear's kernel is
timed, by the runtime's kernel profile. The output is checked against
numpy in float64; then each round measures the FMA peak of the thread count
(benchmarks/fma_peak.c, with the vectors the code was compiled for: AVX2
code from --cpu x86-64-v3 against the AVX2 peak even on an AVX-512
machine) and times every linear right after it, so that a slow phase of a
shared machine lowers both. A linear's figure is its
GFLOP/s (2 M K N flops over the median run time) as a share of the peak of
the same round; the table gives the median and the best over the rounds.

Each linear is timed twice: "warm", one session run again and again, whose
weights (at most 9 MiB) stay in the last-level cache between runs; and
"cold", runs that go round --copies sessions of the artifact (each holds its
own copy of the weights, 12 x 9 MiB by default), so that, as in the model,
whose other blocks' weights pass through the caches between two runs of a
block's linear, the weights come from memory.

    build/peers-venv/bin/python benchmarks/gemm.py          # fc1 etc, 1 thread
    build/peers-venv/bin/python benchmarks/gemm.py --linear fc1 --rounds 3

Needs numpy (the venv of scripts/setup_peers.sh has it). Described in
docs/benchmarks.md.
"""

import argparse
import json
import math
import os
import re
import statistics
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import (ROOT, VitcRunner, fail, load_vitrt,  # noqa: E402
                   measure_fma_peak, percentile50, run_tool)

TOKENS, WIDTH, MLP = 197, 768, 3072
# name: (K, N, epilogue): ViT-B/16's linears in block order.
LINEARS = {
    "qkv": (WIDTH, 3 * WIDTH, "bias"),
    "proj": (WIDTH, WIDTH, "bias+residual"),
    "fc1": (WIDTH, MLP, "bias+gelu"),
    "fc2": (MLP, WIDTH, "bias+residual"),
}
# Bound on max |vitc - float64| / max |float64|: fp32 sums of K <= 3072
# products of O(1) terms stay near 1e-6 relative to the largest output;
# 1e-4 (the CPU end-to-end tests' bound) leaves room for any order of
# summation and the polynomial erf while any wrong element exceeds it.
BOUND = 1e-4


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text
                           + b"".join(blobs))


# The name of the linear's kernel in the artifact (vitc names a kernel after
# its root op), the one kernel timed.
LINEAR_KERNEL = "linear"


def linear_module(rows, k, n, epilogue):
    """A @vit function computing one linear on the GELU of its input."""
    x, y = f"tensor<1x{rows}x{k}xf32>", f"tensor<1x{rows}x{n}xf32>"
    lines = ["module {", f"  func.func @vit(%x: {x}) -> {y} {{",
             f"    %g = vit.gelu %x approximation = exact : {x}",
             f'    %w = vit.weight "weight" : tensor<{n}x{k}xf32>',
             f'    %b = vit.weight "bias" : tensor<{n}xf32>']
    extra = ""
    if "gelu" in epilogue:
        extra += " gelu = exact"
    if "residual" in epilogue:
        lines.append(f'    %r = vit.weight "residual" : {y}')
        extra += f" residual(%r : {y})"
    lines += [f"    %y = vit.linear %g, %w bias(%b : tensor<{n}xf32>){extra}"
              f" : {x}, tensor<{n}x{k}xf32> -> {y}",
              f"    return %y : {y}", "  }", "}", ""]
    return "\n".join(lines)


def gelu(y):
    return 0.5 * y * (1 + np.vectorize(math.erf)(y / math.sqrt(2)))


def reference(x, weights, epilogue):
    y = gelu(x.astype(np.float64)) @ weights["weight"].astype(np.float64).T
    y += weights["bias"]
    if "gelu" in epilogue:
        y = gelu(y)
    if "residual" in epilogue:
        y += weights["residual"]
    return y


def peak_isa(compile_output):
    """fma_peak's -i for the vectors vitc compiled for ("compiling for
    x86-64-v3 (AVX2, 8 f32 lanes)"): avx512 for 16 lanes, avx2 for 8, and
    auto (the host's widest) for anything else."""
    lanes = re.search(r"\(([^,()]+), (\d+) f32 lanes\)", compile_output)
    return {"16": "avx512", "8": "avx2"}.get(lanes.group(2) if lanes else "",
                                             "auto")


def time_runs(runners, x, warmup, iterations):
    """p50 of the linear's kernel time over `iterations` runs going round
    `runners`, after `warmup`."""
    for index in range(warmup):
        runners[index % len(runners)].run(x)
    times = []
    for index in range(iterations):
        runner = runners[index % len(runners)]
        runner.set_profiling(True)
        runner.run(x)
        times.append(runner.kernel_seconds(LINEAR_KERNEL))
        runner.set_profiling(False)
    return percentile50(times)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--linear", nargs="+", default=list(LINEARS),
                        choices=list(LINEARS), help="linears to time")
    parser.add_argument("--batch", type=int, default=1,
                        help="images: the linears get 197 x batch rows")
    parser.add_argument("--threads", type=int, default=1,
                        help="vitrt worker threads (the FMA peak is "
                        "measured for as many)")
    parser.add_argument("--cpu", default="host",
                        help="vitc --cpu: the CPU to compile for")
    parser.add_argument("--copies", type=int, default=12,
                        help="sessions the cold runs go round")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of (FMA peak, every linear)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed runs of a linear per round")
    parser.add_argument("--iterations", type=int, default=20,
                        help="timed runs of a linear per round")
    parser.add_argument("--fma-seconds", type=float, default=0.3,
                        help="duration of each FMA peak run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bin", type=Path, default=ROOT / "build" / "bin",
                        help="directory of vitc")
    parser.add_argument("--vitrt", type=Path,
                        default=ROOT / "build" / "lib" / "libvitrt.so",
                        help="the vitc runtime library")
    parser.add_argument("--cc", help="C compiler for fma_peak.c")
    parser.add_argument("--workdir", type=Path,
                        help="keep modules, weights and artifacts here")
    args = parser.parse_args()
    for name in ("batch", "threads", "copies", "rounds", "iterations"):
        if getattr(args, name) < 1:
            fail(f"--{name} must be at least 1")
    if args.warmup < 0:
        fail("--warmup must not be negative")
    if not (args.bin / "vitc").exists():
        fail(f"{args.bin / 'vitc'} does not exist: build vitc first "
             "(scripts/setup.sh) or pass --bin")

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vitc-gemm-"))
    workdir.mkdir(parents=True, exist_ok=True)
    lib = load_vitrt(args.vitrt)
    rng = np.random.default_rng(args.seed)
    rows = TOKENS * args.batch

    print(f"== ViT-B/16 linears, {rows} rows (batch {args.batch}), "
          f"{args.threads} thread(s), vitc --cpu {args.cpu}")
    linears = {}
    for name in args.linear:
        k, n, epilogue = LINEARS[name]
        weights = {"weight": rng.standard_normal((n, k)) / math.sqrt(k),
                   "bias": rng.uniform(-1, 1, n)}
        if "residual" in epilogue:
            weights["residual"] = rng.uniform(-1, 1, (1, rows, n))
        weights = {key: value.astype(np.float32)
                   for key, value in weights.items()}
        module, tensors = workdir / f"{name}.mlir", workdir / f"{name}.st"
        artifact = workdir / f"{name}_b{args.batch}.vitb"
        module.write_text(linear_module(rows, k, n, epilogue))
        write_safetensors(tensors, weights)
        compiled = run_tool([args.bin / "vitc", module, "--weights", tensors,
                             "--cpu", args.cpu, "-o", artifact],
                            f"compiling {name}")
        runners = [VitcRunner(lib, artifact, args.threads)
                   for _ in range(args.copies)]
        x = rng.uniform(-1, 1, (1, rows, k)).astype(np.float32)
        expected = reference(x, weights, epilogue)
        # Every copy: a session must run its own artifact's kernels.
        error = max(float(np.abs(runner.run(x) - expected).max())
                    for runner in runners) / float(np.abs(expected).max())
        status = "ok" if error <= BOUND else "FAILED"
        print(f"{name}: [{rows} x {k}] x [{k} x {n}], {epilogue}: "
              f"max |vitc - float64| / max |float64| = {error:.2e} "
              f"(bound {BOUND:.0e}) {status}")
        if error > BOUND:
            fail(f"{name} computes wrong results")
        linears[name] = (runners, x, 2.0 * rows * k * n)

    # The peak of the vectors the code uses: AVX2 code (--cpu x86-64-v3)
    # on an AVX-512 machine is measured against the AVX2 peak.
    isa = peak_isa(compiled)
    peaks, described = measure_fma_peak(args, workdir, [args.threads], isa)
    print(f"FMA peak: {described}")
    modes = ("warm", "cold")
    gflops = {(name, mode): [] for name in linears for mode in modes}
    shares = {key: [] for key in gflops}
    for round_index in range(args.rounds):
        peaks, _ = measure_fma_peak(args, workdir, [args.threads], isa)
        peak = peaks[args.threads]
        line = [f"round {round_index + 1}: peak {peak:.1f} GFLOP/s"]
        for name, (runners, x, flops) in linears.items():
            for mode in modes:
                seconds = time_runs(runners if mode == "cold" else runners[:1],
                                    x, args.warmup, args.iterations)
                gflops[name, mode].append(flops / seconds / 1e9)
                shares[name, mode].append(gflops[name, mode][-1] / peak)
            line.append(f"{name} {gflops[name, 'warm'][-1]:.1f} warm, "
                        f"{gflops[name, 'cold'][-1]:.1f} cold")
        print(", ".join(line), flush=True)

    print(f"\nGFLOP/s and share of the {args.threads}-thread FMA peak: "
          f"median (best) over {args.rounds} rounds")
    print("| Linear | M x K x N | Epilogue | warm GFLOP/s | warm % of peak "
          "| cold GFLOP/s | cold % of peak |")
    print("|---|---|---|--:|--:|--:|--:|")
    for name in linears:
        k, n, epilogue = LINEARS[name]
        cells = []
        for mode in modes:
            cells.append(f"{statistics.median(gflops[name, mode]):.1f}")
            cells.append(f"{100 * statistics.median(shares[name, mode]):.0f}%"
                         f" ({100 * max(shares[name, mode]):.0f}%)")
        print(f"| {name} | {rows} x {k} x {n} | {epilogue} | "
              + " | ".join(cells) + " |")
    for runners, _, _ in linears.values():
        for runner in runners:
            runner.close()
    if not args.workdir:
        for path in sorted(workdir.iterdir(), reverse=True):
            path.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
