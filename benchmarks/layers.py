#!/usr/bin/env python3
"""Where the time goes: vitc's kernels beside OpenVINO's layers.

Compiles ViT-B/16 (seeded random weights) with vitc and times it with
`vit-run --benchmark --profile`, which reports each kernel's wall time per
run; builds the same model as an ONNX graph (benchmarks/vit_onnx.py, as
peers.py does), compiles it with OpenVINO's CPU plugin in f32 with
PERF_COUNT on, and sums its per-layer times over as many runs. Both are
grouped into the same categories (linears, attention, layer norm, the rest)
and printed in ms per image, side by side, with the share of each.

    build/peers-venv/bin/python benchmarks/layers.py            # 1 thread
    build/peers-venv/bin/python benchmarks/layers.py --threads 2

OpenVINO names its layers after the ONNX nodes it fused: a FullyConnected
is a linear (MatMul + Add, with GELU or the residual fused in), a Subgraph
is attention (the Softmax with its two MatMuls) or a fused element-wise
chain, MVN is a layer norm, Convolution the patch embedding. The
categories are therefore approximate where OpenVINO fuses across them
(small element-wise Subgraphs count as attention). Needs the venv of
scripts/setup_peers.sh; described in docs/benchmarks.md.
"""

import argparse
import collections
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import openvino as ov

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import ROOT, OpenVinoRunner, fail, run_tool  # noqa: E402
from vit_onnx import ViTConfig, build_onnx_model, read_safetensors  # noqa: E402

CATEGORIES = ("linears", "attention", "layer norm", "other")


def vitc_category(kernel):
    if kernel.endswith("attn.core"):
        return "attention"
    if "norm" in kernel:
        return "layer norm"
    # A projection split by channels ends in its range: "attn.qkv[0:768]".
    if re.search(r"(qkv|proj|fc1|fc2)(\[\d+:\d+\])?$", kernel) or kernel in (
            "patch_embed", "head"):
        return "linears"
    return "other"


def openvino_category(node_type):
    return {"FullyConnected": "linears", "Convolution": "linears",
            "Subgraph": "attention", "MVN": "layer norm"}.get(node_type,
                                                              "other")


def profile_vitc(args, artifact):
    """ms per image of each category, from vit-run --profile."""
    output = subprocess.run(
        [str(args.bin / "vit-run"), str(artifact), "--benchmark", "--profile",
         "--threads", str(args.threads), "--warmup", str(args.warmup),
         "--iterations", str(args.iterations), "--topk", "1"],
        capture_output=True, text=True)
    if output.returncode != 0:
        fail(f"vit-run failed: {output.stderr.strip()}")
    table = output.stdout.split("GFLOP/s\n", 1)[1]
    times = collections.Counter()
    latency = float(re.search(r"latency mean +([0-9.]+) ms",
                              output.stdout).group(1))
    for line in table.splitlines():
        fields = line.split()
        if not fields or fields[0] == "all":
            continue
        times[vitc_category(fields[0])] += float(fields[2])
    times["other"] += max(latency - sum(times.values()), 0.0)
    return times


def profile_openvino(args, request):
    """ms per image of each category, from OpenVINO's per-layer counters."""
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 224, 224)).astype(
        np.float32)
    for _ in range(args.warmup):
        request.infer({0: x})
    times = collections.Counter()
    for _ in range(args.iterations):
        request.infer({0: x})
        for layer in request.get_profiling_info():
            times[openvino_category(layer.node_type)] += \
                layer.real_time.total_seconds() * 1e3 / args.iterations
    return times


def share(time, times):
    return f"{100 * time / sum(times.values()):.0f}%"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds; each runtime's fastest "
                        "is shown")
    parser.add_argument("--bin", type=Path, default=ROOT / "build" / "bin",
                        help="directory of vitc and vit-run")
    args = parser.parse_args()
    if min(args.threads, args.iterations, args.rounds) < 1 or args.warmup < 0:
        fail("--threads, --iterations and --rounds must be positive, "
             "--warmup not negative")
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        weights = workdir / "vit_b16.safetensors"
        artifact = workdir / "vit_b16.vitb"
        run_tool([args.bin / "vitc", "--model", "vit-b16", "--random-weights",
                  "--seed", 0, "--save-weights", weights, "-o", artifact],
                 "vitc")
        onnx_path = workdir / "vit_b16.onnx"
        config = ViTConfig(depth=12)
        onnx.save(build_onnx_model(read_safetensors(weights), config),
                  str(onnx_path))
        # OpenVINO compiled as peers.py compiles it (f32 checked per layer),
        # with per-layer counters.
        request = OpenVinoRunner(ov.Core(), onnx_path, 1, args.threads,
                                 config, profile=True).request
        # Rounds alternate between the two so that a slow phase of a shared
        # machine falls on both; each keeps its fastest round.
        vitc_rounds, openvino_rounds = [], []
        for _ in range(args.rounds):
            vitc_rounds.append(profile_vitc(args, artifact))
            openvino_rounds.append(profile_openvino(args, request))
        vitc = min(vitc_rounds, key=lambda times: sum(times.values()))
        openvino = min(openvino_rounds, key=lambda times: sum(times.values()))
    print(f"ViT-B/16, batch 1, {args.threads} thread(s), fastest of "
          f"{args.rounds} rounds of {args.iterations} runs: ms per image "
          "(share)")
    print("| Category | vitc | OpenVINO | vitc / OpenVINO |")
    print("|---|--:|--:|--:|")
    for category in CATEGORIES + ("total",):
        a = sum(vitc.values()) if category == "total" else vitc[category]
        b = (sum(openvino.values()) if category == "total"
             else openvino[category])
        ratio = f"{a / b:.2f}" if b > 0 else "-"
        print(f"| {category} | {a:.1f} ({share(a, vitc)}) | "
              f"{b:.1f} ({share(b, openvino)}) | {ratio} |")
    print("vitc's other is the runtime between its kernels "
          "(mean latency minus the kernels' time).")


if __name__ == "__main__":
    main()
