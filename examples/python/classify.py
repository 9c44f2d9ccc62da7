#!/usr/bin/env python3
"""Classify with a compiled model from Python: the vitrt and vitc packages.

    classify.py [model.vitb] [--input x.npy] [--topk K] [--labels FILE]
                [--threads N]

Without a model it compiles a tiny one first (ViT-Ti/16 with one block on
32x32 images, random weights) with vitc.compile, so that it runs in
seconds. The input is a float32 .npy of the model's input shape in its
layout (the preprocessed image: resized, scaled to [0, 1], normalised with
session.pixel_mean and pixel_std), or seeded random values. It prints the
top classes of every image, with names when there is one per class: the
--labels file's, else the ones the artifact embeds (session.labels), else
ImageNet-1k's.

Run it from the repository with the packages on the path,

    PYTHONPATH=python python3 examples/python/classify.py

or anywhere once they are installed (pip install ./python).
"""

import argparse
import pathlib
import sys
import tempfile

import numpy as np

import vitrt

LABELS = (pathlib.Path(__file__).resolve().parents[2] / "models" /
          "imagenet1k_labels.txt")


def compile_tiny(directory):
    import vitc  # only needed to compile
    return vitc.compile(model="vit-ti16", out=directory / "tiny.vitb",
                        random_weights=True,
                        extra_args=["--depth", "1", "--image-size", "32"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="a .vitb artifact "
                        "(default: compile a tiny one)")
    parser.add_argument("--input", help="float32 .npy of the input shape "
                        "(default: uniform random in [-1, 1), seed 0)")
    parser.add_argument("--topk", type=int, default=5)
    parser.add_argument("--labels", help="class names, one per line "
                        "(default: the artifact's, else ImageNet-1k's)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads (default: all)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        model = args.model or compile_tiny(pathlib.Path(scratch))
        try:
            session = vitrt.Session(model, threads=args.threads)
        except vitrt.Error as error:
            sys.exit("classify.py: error: %s" % error)
    with session:
        print("model:  %s (%s %s, %s)" % (session.model_name,
                                          session.target_kind,
                                          session.target_name,
                                          session.precision))
        if args.input:
            x = np.load(args.input)
            source = args.input
        else:
            rng = np.random.default_rng(0)
            x = rng.uniform(-1, 1, session.input_shape).astype(np.float32)
            source = "random"
        print("input:  %s %s, %s" % (list(session.input_shape),
                                     session.input_layout, source))
        try:
            logits = session.run(x)
        except ValueError as error:  # shape or dtype: says what it expects
            sys.exit("classify.py: error: %s" % error)
        print("output: %s" % list(logits.shape))
        labels = list(session.labels)

    if args.labels or not labels:
        path = pathlib.Path(args.labels or LABELS)
        labels = path.read_text().splitlines() if path.is_file() else []
    if len(labels) != logits.shape[-1]:
        labels = []  # names only when there is one per class
    top = vitrt.topk(logits, args.topk)
    for image, (indices, values) in enumerate(zip(top.indices, top.values)):
        print("image %d:" % image)
        for rank, (index, value) in enumerate(zip(indices, values), 1):
            name = "  " + labels[index] if labels else ""
            print("  #%d  class %d%s  logit %.4f" % (rank, index, name,
                                                     value))


if __name__ == "__main__":
    main()
