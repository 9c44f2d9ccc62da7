#!/usr/bin/env python3
"""The PyTorch half of scripts/gpu_check.sh: numerics and speed against timm.

gpu_check.sh compiles ViT-B/16 with vitc for the GPU and the CPU from one
safetensors file and runs both artifacts on the same inputs; for each batch B
it leaves in --workdir:

    input_bB.npy   the input, [B, 3, 224, 224] float32
    cpu_bB.npy     logits of the CPU artifact (vit-run --output)
    gpu_bB.npy     logits of the GPU artifact (--precision fp32)
    bench_bB.txt   the report of vit-run --benchmark on the GPU artifact

and, with --precision tf32, bf16 or fp16, gpu_<precision>_bB.npy and
bench_<precision>_bB.txt for the artifact compiled with that precision.

This script loads the same weights into timm's vit_base_patch16_224 (timm
names are vitc's; its attention is PyTorch's SDPA), checks the GPU logits
against the CPU artifact and against PyTorch (fp32, or under
torch.autocast in the 16-bit precisions, its tf32 mode for tf32), times
PyTorch eager and torch.compile the way vit-run times a run, and prints one
table. fp32 logits must agree within --bound (max relative difference);
the others within the relative L2 bound of the precision
(unittests/E2E/Numerics.h: 2e-3 tf32, 1.5e-2 bf16, 3e-3 fp16; PyTorch
rounds differently, so against it the bound is doubled). It exits with status 1 if a check fails.
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


def rel_l2(actual, expected):
    """||actual - expected||_2 / ||expected||_2, vitc's measure for the
    tensor-core precisions."""
    return float(np.linalg.norm(actual - expected) / np.linalg.norm(expected))


L2_BOUNDS = {"tf32": 2e-3, "bf16": 1.5e-2, "fp16": 3e-3}
AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


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


def run_torch(model, x_device, precision):
    """Logits of `model`, in fp32 (tf32 matmuls when main allowed them) or
    under autocast to the precision."""
    if precision in ("fp32", "tf32"):
        return model(x_device).float()
    with torch.autocast("cuda", dtype=AUTOCAST[precision]):
        return model(x_device).float()


def time_torch(model, x_host, warmup, iterations, precision):
    """Per-run wall time of host input -> device -> model -> host logits,
    the work a vit-run benchmark run of a CUDA artifact does. .cpu() waits
    for the GPU, so perf_counter brackets the whole run."""
    times = []
    with torch.inference_mode():
        for i in range(warmup + iterations):
            start = time.perf_counter()
            run_torch(model, x_host.cuda(non_blocking=False), precision).cpu()
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
    parser.add_argument("--precision",
                        choices=["fp32", "tf32", "bf16", "fp16"],
                        default="fp32",
                        help="what the vitc artifact and PyTorch compute in")
    args = parser.parse_args()

    if not torch.cuda.is_available():
        fail(f"PyTorch {torch.__version__} sees no CUDA device "
             "(a CPU-only torch wheel, or no driver)")
    card = args.card or torch.cuda.get_device_name()
    model = load_model(args.weights)
    if args.precision == "tf32":
        # PyTorch's own tf32: matmuls and convolutions on tf32 tensor cores.
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.set_float32_matmul_precision("high")
    compiled = torch.compile(model, mode=args.compile_mode)
    print(f"torch {torch.__version__}, timm {timm.__version__}, {card}")

    failures, rows = [], []
    for batch in args.batch:
        def load(name):
            path = args.workdir / f"{name}_b{batch}.npy"
            if not path.is_file():
                fail(f"{path} is missing (written by scripts/gpu_check.sh)")
            return np.load(path)

        precision = args.precision
        tag = "" if precision == "fp32" else f"_{precision}"
        x = torch.from_numpy(load("input"))
        gpu, cpu = load(f"gpu{tag}"), load("cpu")
        with torch.inference_mode():
            reference = run_torch(model, x.cuda(), precision).cpu().numpy()
        torch_name = {"fp32": "PyTorch", "tf32": "PyTorch tf32"}.get(
            precision, f"PyTorch autocast {precision}")
        for what, expected in (("CPU artifact", cpu), (torch_name, reference)):
            if precision == "fp32":
                error, bound, measure = (max_rel_diff(gpu, expected),
                                         args.bound, "max rel diff")
            else:
                error, bound, measure = (rel_l2(gpu, expected),
                                         L2_BOUNDS[precision], "rel L2")
                if what != "CPU artifact":
                    bound *= 2
            agree = float((gpu.argmax(1) == expected.argmax(1)).mean())
            # Top-1 must agree everywhere in fp32, on 95% of images in 16 bits.
            top1_ok = agree == 1.0 if precision == "fp32" else agree >= 0.95
            verdict = "ok" if error <= bound and top1_ok else "FAIL"
            print(f"batch {batch}: GPU artifact ({precision}) vs {what}: "
                  f"{measure} {error:.2e} (bound {bound:.1e}), top-1 agrees "
                  f"on {agree:.0%}: {verdict}")
            if verdict != "ok":
                failures.append(f"batch {batch} vs {what}")

        rows.append((f"vitc (vit-run, {precision})", batch,
                     *read_vit_run_report(
                         args.workdir / f"bench{tag}_b{batch}.txt", batch)))
        rows.append((f"PyTorch eager ({torch_name})", batch,
                     *time_torch(model, x, args.warmup, args.iterations,
                                 precision)))
        try:  # Inductor needs Triton and a C compiler; report, don't abort.
            rows.append((f"torch.compile ({args.compile_mode}, {precision})",
                         batch,
                         *time_torch(compiled, x, args.warmup,
                                     args.iterations, precision)))
        except Exception as error:  # noqa: BLE001 - any backend failure
            print(f"batch {batch}: torch.compile failed: "
                  f"{type(error).__name__}: {str(error).splitlines()[0]}")
            rows.append((f"torch.compile ({args.compile_mode}, {precision})",
                         batch, float("nan"), float("nan")))

    print(f"\n{card}, {args.precision}, {args.warmup} warm-up and "
          f"{args.iterations} "
          "timed runs; each run copies the input in and the logits out")
    print("| Runtime | Batch | p50 latency (ms) | Images/s |")
    print("|---------|------:|-----------------:|---------:|")
    for name, batch, p50, ips in rows:
        print(f"| {name} | {batch} | {p50:.3f} | {ips:.1f} |")
    if failures:
        fail("numerics out of bounds: " + ", ".join(failures))


if __name__ == "__main__":
    main()
