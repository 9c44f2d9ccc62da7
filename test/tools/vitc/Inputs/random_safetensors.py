#!/usr/bin/env python3
"""Writes F32 safetensors of seeded random values in [-1, 1), for IR files
whose weights no preset names.

usage: random_safetensors.py OUT NAME=D0xD1... [NAME=...]
"""
import json
import random
import struct
import sys


def main():
    out, specs = sys.argv[1], sys.argv[2:]
    rng = random.Random(1)
    header, data = {}, b""
    for spec in sorted(specs):
        name, dims = spec.split("=")
        shape = [int(d) for d in dims.split("x")]
        count = 1
        for d in shape:
            count *= d
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [len(data), len(data) + 4 * count]}
        data += struct.pack("<%df" % count,
                            *[rng.uniform(-1, 1) for _ in range(count)])
    text = json.dumps(header).encode()
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


if __name__ == "__main__":
    main()
