"""Compares two float .npy arrays with the standard library only (no NumPy).

  compare_npy.py ACTUAL.npy EXPECTED.npy [--bound B | --l2-bound B]

Prints the shapes, the max absolute error, the max relative error

    max|actual - expected| / max(1, max|expected|)

and, with --l2-bound, the relative L2 error ||actual - expected||_2 /
||expected||_2, then PASS, or FAIL and exit status 1 when the shapes
differ, either array holds a NaN or infinity, or the error checked exceeds
its bound: the max relative error (--bound), or with --l2-bound the
relative L2 error, the measure of the tensor-core precisions
(unittests/E2E/Numerics.h derives their bounds). Reads '<f4' and
'<f8' C-order arrays, .npy format versions 1 to 3.

The default bound, 1e-4: vitc and TensorFlow both compute in fp32 but sum in
different orders (tiled matmuls, oneDNN convolution, their own softmax,
layer-norm and erf code), so their logits differ by rounding only: 5e-8 to
1.1e-6 relative for the test goldens, 7.5e-7 for ViT-B/16
(docs/tensorflow-oracle.md). 1e-4 leaves about two orders of magnitude for
other CPUs, vector widths and thread counts. Convention mistakes, measured
on the goldens by changing the TensorFlow side, land far above it: a patch
kernel with H and W swapped, q and k swapped, heads taken interleaved, an
untransposed linear or images read with H and W swapped move the logits by
0.7 to 2.4; a zeroed head bias by 5e-2; tanh GELU instead of the exact one by
2e-4 to 4e-4. A layer-norm epsilon off by a decade (1e-5) moves them by only
1e-5 to 4e-5 and is not caught at this bound.
"""
import argparse
import ast
import math
import struct
import sys


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY" or data[6] not in (1, 2, 3):
        sys.exit("%s: not a .npy file" % path)
    if data[6] == 1:
        (length,) = struct.unpack("<H", data[8:10])
        start = 10
    else:
        (length,) = struct.unpack("<I", data[8:12])
        start = 12
    header = ast.literal_eval(data[start:start + length].decode("latin1"))
    descr, shape = header["descr"], list(header["shape"])
    if descr not in ("<f4", "<f8") or header["fortran_order"]:
        sys.exit("%s: expected a C-order '<f4' or '<f8' array, got %s"
                 % (path, header))
    count = math.prod(shape)
    body = data[start + length:]
    code, size = ("f", 4) if descr == "<f4" else ("d", 8)
    if len(body) != count * size:
        sys.exit("%s: %d data bytes for shape %s" % (path, len(body), shape))
    return shape, struct.unpack("<%d%s" % (count, code), body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("actual")
    parser.add_argument("expected")
    parser.add_argument("--bound", type=float, default=1e-4)
    parser.add_argument("--l2-bound", type=float)
    args = parser.parse_args()

    shape_a, a = read_npy(args.actual)
    shape_b, b = read_npy(args.expected)
    print("shapes: actual %s, expected %s" % (shape_a, shape_b))
    if shape_a != shape_b:
        print("FAIL: shapes differ")
        return 1
    if not all(math.isfinite(x) for x in a + b):
        print("FAIL: not every value is finite")
        return 1
    abs_error = max((abs(x - y) for x, y in zip(a, b)), default=0.0)
    scale = max([1.0] + [abs(y) for y in b])
    rel_error = abs_error / scale
    norm = math.sqrt(sum(y * y for y in b))
    l2_error = math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b))) / max(
        norm, 1e-30)
    print("max abs error: %.3e" % abs_error)
    if args.l2_bound is None:
        print("max relative error: %.3e (bound %.1e)" % (rel_error, args.bound))
        failed = rel_error > args.bound
    else:
        print("max relative error: %.3e" % rel_error)
        print("relative L2 error: %.3e (bound %.1e)" % (l2_error, args.l2_bound))
        failed = l2_error > args.l2_bound
    if failed:
        print("FAIL: above the bound")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
