#!/usr/bin/env python3
"""Checks vit-run's output of Inputs/attention.mlir against attention in
float64: q, k, v are the three thirds of the input's channels, split into
`heads` heads.

usage: check_attention.py INPUT.npy OUTPUT.npy HEADS [--shift-keys]

Prints the largest error relative to the largest output and exits 1 if it
exceeds 1e-5 (fp32 sums of 37 products and a polynomial exp stay near
1e-7). --shift-keys pairs each query with the next token's key in the
reference, a wrong attention that the check must refuse.
"""
import sys

import numpy as np


def main():
    x = np.load(sys.argv[1]).astype(np.float64)
    y = np.load(sys.argv[2]).astype(np.float64)
    heads = int(sys.argv[3])
    batch, tokens, width = x.shape[0], x.shape[1], x.shape[2] // 3
    q, k, v = (x[..., i * width:(i + 1) * width]
               .reshape(batch, tokens, heads, -1).transpose(0, 2, 1, 3)
               for i in range(3))
    if "--shift-keys" in sys.argv:
        k = np.roll(k, 1, axis=2)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(q.shape[-1])
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    expected = (p @ v).transpose(0, 2, 1, 3).reshape(batch, tokens, width)
    error = np.abs(y - expected).max() / np.abs(expected).max()
    print(f"max relative error {error:.2e}")
    return 0 if error <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
