#!/usr/bin/env python3
"""The PyTorch half of scripts/gpu_check.sh: numerics and speed against timm.

gpu_check.sh compiles ViT-B/16 with vitc for the GPU and the CPU from one
safetensors file and runs both artifacts on the same inputs; for each batch B
it leaves in --workdir:

    input_bB.npy   the input, [B, 3, 224, 224] float32
    cpu_bB.npy     logits of the CPU artifact (vit-run --output)
    gpu_bB.npy     logits of the GPU artifact
    bench_bB.txt   the report of vit-run --benchmark on the GPU artifact

This script loads the same weights into timm's vit_base_patch16_224 (timm
names are vitc's), checks the GPU logits against the CPU artifact and against
PyTorch, times PyTorch eager and torch.compile the way vit-run times a run,
and prints one table. It exits with status 1 if a check fails.
"""

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

try:
    import numpy as np
    import timm
    import torch
    from safetensors.torch import load_file
except ImportError as error:
    sys.exit(f"torch_compare: error: {error}; install with "
             "'pip install numpy torch timm'")


def fail(message):
    sys.exit(f"torch_compare: error: {message}")


def max_rel_diff(actual, expected):
    """max |actual - expected| over max |expected|: element-wise ratios are
    meaningless for logits near zero."""
    return float(np.abs(actual - expected).max() / np.abs(expected).max())


def load_model(weights):
    # fp32 everywhere: no TF32 in matmuls or convolutions, which PyTorch
    # enables for cuDNN by default.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    model = timm.create_model("vit_base_patch16_224", pretrained=False)
    state = load_file(str(weights))
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as error:  # shape mismatches
        fail(f"{weights}: {str(error).splitlines()[-1].strip()}")
    if missing or unexpected:
        fail(f"{weights} does not match timm's vit_base_patch16_224 "
             f"(timm {timm.__version__}): missing {missing[:3]}, "
             f"unexpected {unexpected[:3]}")
    return model.eval().cuda()


def time_torch(model, x_host, warmup, iterations):
    """Per-run wall time of host input -> device -> model -> host logits,
    the work a vit-run benchmark run of a CUDA artifact does. .cpu() waits
    for the GPU, so perf_counter brackets the whole run."""
    times = []
    with torch.inference_mode():
        for i in range(warmup + iterations):
            start = time.perf_counter()
            model(x_host.cuda(non_blocking=False)).cpu()
            if i >= warmup:
                times.append((time.perf_counter() - start) * 1000.0)
    times.sort()
    # vit-run's definitions: nearest-rank p50, throughput = B / mean latency.
    p50 = times[(len(times) + 1) // 2 - 1]
    return p50, x_host.shape[0] * 1000.0 / statistics.mean(times)


def read_vit_run_report(path, batch):
    text = path.read_text()
    p50 = re.search(r"latency p50\s+([0-9.]+) ms", text)
    mean = re.search(r"latency mean\s+([0-9.]+) ms", text)
    if not (p50 and mean):
        fail(f"{path}: no vit-run benchmark report in it")
    return float(p50.group(1)), batch * 1000.0 / float(mean.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--card", default="", help="GPU name for the table")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--bound", type=float, default=1e-3,
                        help="largest allowed max |a - b| / max |b| of logits")
    parser.add_argument("--compile-mode", default="default",
                        help="torch.compile mode (e.g. max-autotune)")
    args = parser.parse_args()

    if not torch.cuda.is_available():
        fail(f"PyTorch {torch.__version__} sees no CUDA device "
             "(a CPU-only torch wheel, or no driver)")
    card = args.card or torch.cuda.get_device_name()
    model = load_model(args.weights)
    compiled = torch.compile(model, mode=args.compile_mode)
    print(f"torch {torch.__version__}, timm {timm.__version__}, {card}")

    failures, rows = [], []
    for batch in args.batch:
        def load(name):
            path = args.workdir / f"{name}_b{batch}.npy"
            if not path.is_file():
                fail(f"{path} is missing (written by scripts/gpu_check.sh)")
            return np.load(path)

        x = torch.from_numpy(load("input"))
        gpu, cpu = load("gpu"), load("cpu")
        with torch.inference_mode():
            reference = model(x.cuda()).cpu().numpy()
        for what, expected in (("CPU artifact", cpu), ("PyTorch", reference)):
            rel = max_rel_diff(gpu, expected)
            same_top1 = bool((gpu.argmax(1) == expected.argmax(1)).all())
            verdict = "ok" if rel <= args.bound and same_top1 else "FAIL"
            print(f"batch {batch}: GPU artifact vs {what}: max rel diff "
                  f"{rel:.2e} (bound {args.bound:.0e}), top-1 "
                  f"{'same' if same_top1 else 'differs'}: {verdict}")
            if verdict != "ok":
                failures.append(f"batch {batch} vs {what}")

        rows.append(("vitc (vit-run)", batch, *read_vit_run_report(
            args.workdir / f"bench_b{batch}.txt", batch)))
        rows.append(("PyTorch eager", batch,
                     *time_torch(model, x, args.warmup, args.iterations)))
        try:  # Inductor needs Triton and a C compiler; report, don't abort.
            rows.append((f"torch.compile ({args.compile_mode})", batch,
                         *time_torch(compiled, x, args.warmup,
                                     args.iterations)))
        except Exception as error:  # noqa: BLE001 - any backend failure
            print(f"batch {batch}: torch.compile failed: "
                  f"{type(error).__name__}: {str(error).splitlines()[0]}")
            rows.append((f"torch.compile ({args.compile_mode})", batch,
                         float("nan"), float("nan")))

    print(f"\n{card}, fp32, {args.warmup} warm-up and {args.iterations} "
          "timed runs; each run copies the input in and the logits out")
    print("| Runtime | Batch | p50 latency (ms) | Images/s |")
    print("|---------|------:|-----------------:|---------:|")
    for name, batch, p50, ips in rows:
        print(f"| {name} | {batch} | {p50:.3f} | {ips:.1f} |")
    if failures:
        fail("numerics out of bounds: " + ", ".join(failures))


if __name__ == "__main__":
    main()
