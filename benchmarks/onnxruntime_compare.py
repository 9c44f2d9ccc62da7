#!/usr/bin/env python3
"""Compares vitc's CPU artifact of ViT-B/16 with ONNX Runtime on this machine.

Both run the same weights: vitc draws seeded random weights and saves them as
safetensors (timm names); this script rebuilds the model from that file as an
ONNX graph with onnx.helper, checks that ORT's logits match vit-run's on the
same random input, and times both at each batch size.

    python3 -m venv build/bench-venv
    build/bench-venv/bin/pip install numpy onnx onnxruntime
    build/bench-venv/bin/python benchmarks/onnxruntime_compare.py --batch 1 8

Results are described in docs/benchmarks.md.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

try:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
except ImportError as error:
    sys.exit(f"onnxruntime_compare: error: {error}; run in a venv with "
             "'pip install numpy onnx onnxruntime'")

ROOT = Path(__file__).resolve().parent.parent

# ViT-B/16 as the vit-b16 preset defines it (docs/model-config.md).
IMAGE, PATCH, CHANNELS = 224, 16, 3
WIDTH, HEADS, CLASSES = 768, 12, 1000
EPS = 1e-6


def fail(message):
    sys.exit(f"onnxruntime_compare: error: {message}")


def read_safetensors(path):
    """Returns {name: float32 array} from a safetensors file."""
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64}
    with open(path, "rb") as file:
        data = file.read()
    (header_size,) = np.frombuffer(data[:8], dtype="<u8")
    header = json.loads(data[8:8 + int(header_size)])
    body = memoryview(data)[8 + int(header_size):]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] not in dtypes:
            fail(f"{path}: tensor '{name}' has unsupported dtype "
                 f"{entry['dtype']}")
        begin, end = entry["data_offsets"]
        array = np.frombuffer(body[begin:end],
                              dtype=np.dtype(dtypes[entry["dtype"]]).newbyteorder("<"))
        tensors[name] = array.reshape(entry["shape"]).astype(np.float32)
    return tensors


class GraphBuilder:
    """Collects nodes and initializers; every helper returns its output name."""

    def __init__(self, weights):
        self.weights = weights
        self.nodes, self.initializers = [], []
        self.count = 0
        self.const_names = set()

    def fresh(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, name, array):
        # Shared by every block: the first call defines it.
        if name not in self.const_names:
            self.const_names.add(name)
            self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def weight(self, name, transpose=False):
        array = self.weights[name]
        # MatMul takes [in, out]; checkpoints store linears as [out, in].
        if transpose:
            array = np.ascontiguousarray(array.T)
        return self.const(name + (".T" if transpose else ""), array)

    def op(self, op_type, inputs, hint=None, **attrs):
        out = self.fresh(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def linear(self, x, prefix):
        y = self.op("MatMul", [x, self.weight(prefix + ".weight", True)])
        return self.op("Add", [y, self.weight(prefix + ".bias")])

    def layer_norm(self, x, prefix):
        return self.op("LayerNormalization",
                       [x, self.weight(prefix + ".weight"),
                        self.weight(prefix + ".bias")], axis=-1, epsilon=EPS)

    def gelu(self, x):
        # Exact GELU, x * Phi(x), as the preset uses; ORT fuses it to Gelu.
        scaled = self.op("Div", [x, self.const("sqrt2", np.float32(np.sqrt(2)))])
        erf = self.op("Erf", [scaled])
        one_plus = self.op("Add", [erf, self.const("one", np.float32(1))])
        half = self.op("Mul", [x, self.const("half", np.float32(0.5))])
        return self.op("Mul", [half, one_plus])

    def attention(self, x, prefix):
        head_dim = WIDTH // HEADS
        qkv = self.linear(x, prefix + ".qkv")  # [B, T, 3D], q then k then v
        qkv = self.op("Reshape", [qkv, self.const(
            "qkv_shape", np.array([0, 0, 3, HEADS, head_dim], np.int64))])
        qkv = self.op("Transpose", [qkv], perm=[2, 0, 3, 1, 4])  # [3,B,h,T,d]
        q, k, v = (self.op("Gather", [qkv, self.const(
            f"index{i}", np.array(i, np.int64))], axis=0) for i in range(3))
        k_t = self.op("Transpose", [k], perm=[0, 1, 3, 2])
        scores = self.op("MatMul", [q, k_t])
        scores = self.op("Mul", [scores, self.const(
            "scale", np.float32(head_dim ** -0.5))])
        probs = self.op("Softmax", [scores], axis=-1)
        context = self.op("MatMul", [probs, v])  # [B, h, T, d]
        context = self.op("Transpose", [context], perm=[0, 2, 1, 3])
        context = self.op("Reshape", [context, self.const(
            "merge_shape", np.array([0, 0, WIDTH], np.int64))])
        return self.linear(context, prefix + ".proj")


def build_onnx_model(weights, depth):
    """ViT-B/16 with timm's structure; the batch dimension is symbolic."""
    g = GraphBuilder(weights)
    patches = g.op("Conv", ["input", g.weight("patch_embed.proj.weight"),
                            g.weight("patch_embed.proj.bias")],
                   kernel_shape=[PATCH, PATCH], strides=[PATCH, PATCH])
    patches = g.op("Reshape", [patches, g.const(
        "flat_shape", np.array([0, WIDTH, -1], np.int64))])
    patches = g.op("Transpose", [patches], perm=[0, 2, 1])  # [B, N, D]
    # The class token, broadcast to the batch: [B, 1, D].
    batch = g.op("Slice", [g.op("Shape", ["input"]),
                           g.const("zero", np.array([0], np.int64)),
                           g.const("one_i", np.array([1], np.int64))])
    cls_shape = g.op("Concat", [batch, g.const(
        "cls_tail", np.array([1, WIDTH], np.int64))], axis=0)
    cls = g.op("Expand", [g.weight("cls_token"), cls_shape])
    x = g.op("Concat", [cls, patches], axis=1)
    x = g.op("Add", [x, g.weight("pos_embed")])
    for i in range(depth):
        p = f"blocks.{i}"
        x = g.op("Add", [x, g.attention(g.layer_norm(x, p + ".norm1"),
                                        p + ".attn")])
        hidden = g.gelu(g.linear(g.layer_norm(x, p + ".norm2"), p + ".mlp.fc1"))
        x = g.op("Add", [x, g.linear(hidden, p + ".mlp.fc2")])
    x = g.layer_norm(x, "norm")
    cls_out = g.op("Gather", [x, g.const("index0", np.array(0, np.int64))],
                   axis=1)
    logits = g.linear(cls_out, "head")
    g.nodes.append(helper.make_node("Identity", [logits], ["logits"]))

    graph = helper.make_graph(
        g.nodes, "vit_b16",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                       ["batch", CHANNELS, IMAGE, IMAGE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                       ["batch", CLASSES])],
        g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def run(command, what):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"{what} failed ({' '.join(map(str, command))}):\n"
             f"{result.stderr.strip() or result.stdout.strip()}")
    return result.stdout + result.stderr


def vit_run_benchmark(vit_run, artifact, batch, warmup, iterations, threads):
    out = run([vit_run, artifact, "--benchmark", "--warmup", str(warmup),
               "--iterations", str(iterations), "--topk", "1",
               "--threads", str(threads)], "vit-run")
    p50 = re.search(r"latency p50\s+([0-9.]+) ms", out)
    mean = re.search(r"latency mean\s+([0-9.]+) ms", out)
    if not (p50 and mean):
        fail(f"could not read vit-run's benchmark report:\n{out}")
    return float(p50.group(1)), batch * 1000.0 / float(mean.group(1))


def ort_benchmark(session, x, warmup, iterations):
    for _ in range(warmup):
        session.run(None, {"input": x})
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        session.run(None, {"input": x})
        times.append((time.perf_counter() - start) * 1000.0)
    # Same definitions as vit-run: nearest-rank p50, throughput = B / mean.
    p50 = sorted(times)[(len(times) + 1) // 2 - 1]
    return p50, x.shape[0] * 1000.0 / float(np.mean(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--bin", type=Path, default=ROOT / "build" / "bin",
                        help="directory of vitc and vit-run")
    parser.add_argument("--workdir", type=Path,
                        help="where artifacts go (default: a temporary dir)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--depth", type=int, default=12,
                        help="encoder blocks (fewer for a quick check)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="ORT intra-op threads")
    parser.add_argument("--vitc-threads", type=int, default=0,
                        help="vit-run --threads (0: every hardware thread)")
    args = parser.parse_args()

    vitc, vit_run = args.bin / "vitc", args.bin / "vit-run"
    for tool in (vitc, vit_run):
        if not os.access(tool, os.X_OK):
            fail(f"{tool} not found; build vitc first (scripts/setup.sh)")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vitc-ort-"))
    workdir.mkdir(parents=True, exist_ok=True)

    # One weight file, used by every artifact and by the ONNX model.
    weights_path = workdir / "vit_b16.safetensors"
    model_flags = ["--model", "vit-b16", "--depth", str(args.depth)]
    run([vitc, *model_flags, "--random-weights", "--seed", str(args.seed),
         "--save-weights", weights_path, "--summary"], "vitc")
    model = build_onnx_model(read_safetensors(weights_path), args.depth)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])

    print(f"onnxruntime {ort.__version__}, {args.threads} intra-op threads; "
          f"vit-run --threads {args.vitc_threads}; {os.cpu_count()} cores")
    rows = []
    for batch in args.batch:
        artifact = workdir / f"vit_b16_b{batch}.vitb"
        run([vitc, *model_flags, "--weights", weights_path,
             "--batch", str(batch), "-o", artifact], "vitc")

        # Numerics: the same input through both.
        rng = np.random.default_rng(args.seed + batch)
        x = rng.uniform(-1, 1, (batch, CHANNELS, IMAGE, IMAGE)).astype(np.float32)
        np.save(workdir / f"input_b{batch}.npy", x)
        run([vit_run, artifact, "--input", workdir / f"input_b{batch}.npy",
             "--output", workdir / f"logits_b{batch}.npy",
             "--threads", str(args.vitc_threads)], "vit-run")
        vitc_logits = np.load(workdir / f"logits_b{batch}.npy")
        ort_logits = session.run(None, {"input": x})[0]
        # Relative to the largest logit: element-wise ratios blow up near 0.
        diff = np.abs(ort_logits - vitc_logits).max()
        rel = diff / np.abs(vitc_logits).max()
        top1 = np.mean(ort_logits.argmax(1) == vitc_logits.argmax(1))
        print(f"batch {batch}: max |ORT - vitc| = {diff:.3g}, relative to the "
              f"largest logit {rel:.3g}; top-1 agreement {top1:.0%}")

        ort_p50, ort_ips = ort_benchmark(session, x, args.warmup,
                                         args.iterations)
        vitc_p50, vitc_ips = vit_run_benchmark(vit_run, artifact, batch,
                                               args.warmup, args.iterations,
                                               args.vitc_threads)
        rows += [("onnxruntime", batch, ort_p50, ort_ips, rel),
                 ("vitc", batch, vitc_p50, vitc_ips, rel)]

    print(f"\n{args.warmup} warm-up and {args.iterations} timed runs each")
    print("| Runtime | Batch | p50 latency (ms) | Images/s | Max rel. diff |")
    print("|---------|------:|-----------------:|---------:|--------------:|")
    for name, batch, p50, ips, rel in rows:
        print(f"| {name} | {batch} | {p50:.1f} | {ips:.2f} | {rel:.2e} |")


if __name__ == "__main__":
    main()
