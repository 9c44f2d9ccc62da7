"""Writes and checks the files of the vit-run tests with the standard library
only (no NumPy or PIL).

  tensors.py npy FILE DIMS [--f8] [--fortran] [--truncate N] [--extra N]
                [--shape-text TEXT] [--nan INDEX]
  tensors.py raw FILE DIMS [--truncate N]
  tensors.py png FILE WIDTH HEIGHT gradient|solid
  tensors.py top1 FILE.npy
  tensors.py check-image WIDTH HEIGHT gradient|solid SAVED.npy LOG [INDEX]

DIMS is comma-separated ("1,3,32,32"). --truncate cuts N bytes off the
end, --extra appends N zero bytes; --shape-text writes TEXT as the header's
'shape' (e.g. a negative dimension), the data still being that of DIMS;
--nan makes the value at INDEX a NaN.
npy and raw hold the same values for
the same DIMS, so a model must give the same logits for both. check-image
recomputes vit-run's preprocessing of a png written by this script (bilinear
resize with half-pixel centres, [0, 1] scaling, the mean/std printed on
vit-run's "input:" line in LOG) and compares it with --save-input's file:
every image of the batch, or only image INDEX.
"""
import ast
import math
import re
import struct
import sys
import zlib


def values(count, nan_index=None):
    return [math.nan if i == nan_index else ((i * 37) % 101) / 50.0 - 1.0
            for i in range(count)]


def npy_bytes(dims, descr, fortran, shape_text=None, nan_index=None):
    trailing = "," if len(dims) == 1 else ""
    shape = shape_text or "(%s%s)" % (", ".join(map(str, dims)), trailing)
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, fortran, shape)
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    count = math.prod(dims)
    code = "d" if descr == "<f8" else "f"
    data = struct.pack("<%d%s" % (count, code), *values(count, nan_index))
    return (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) +
            header.encode() + data)


def read_npy(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x93NUMPY\x01\x00", "not a version 1.0 .npy"
    length = struct.unpack("<H", data[8:10])[0]
    header = ast.literal_eval(data[10:10 + length].decode())
    assert header["descr"] == "<f4" and not header["fortran_order"], header
    shape = header["shape"]
    body = data[10 + length:]
    assert len(body) == 4 * math.prod(shape), "wrong data size"
    return shape, struct.unpack("<%df" % math.prod(shape), body)


def pixel(pattern, width, height, x, y):
    if pattern == "solid":
        return (200, 100, 50)
    return (x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1),
            (x + y) * 255 // max(width + height - 2, 1))


def write_png(path, width, height, pattern):
    rows = b"".join(
        b"\0" + b"".join(bytes(pixel(pattern, width, height, x, y))
                         for x in range(width)) for y in range(height))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body)))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                           chunk(b"IDAT", zlib.compress(rows)) +
                           chunk(b"IEND", b""))


def taps(source, target):
    result = []
    for i in range(target):
        position = max((i + 0.5) * source / target - 0.5, 0.0)
        low = min(int(position), source - 1)
        result.append((low, min(low + 1, source - 1), position - low))
    return result


def check_image(width, height, pattern, saved, log, only=None):
    line = next(l for l in open(log) if l.startswith("input:"))
    floats = r"\[([-0-9.e, ]+)\]"
    match = re.search(r"\] (nchw|nhwc) .*mean %s, std %s" % (floats, floats),
                      line)
    layout = match.group(1)
    mean = [float(v) for v in match.group(2).split(",")]
    std = [float(v) for v in match.group(3).split(",")]
    shape, data = read_npy(saved)
    if layout == "nchw":
        batch, channels, rows, columns = shape
    else:
        batch, rows, columns, channels = shape
    worst = 0.0
    for y, (y0, y1, fy) in enumerate(taps(height, rows)):
        for x, (x0, x1, fx) in enumerate(taps(width, columns)):
            for c in range(channels):
                p = lambda yy, xx: pixel(pattern, width, height, xx, yy)[c]
                top = p(y0, x0) + (p(y0, x1) - p(y0, x0)) * fx
                bottom = p(y1, x0) + (p(y1, x1) - p(y1, x0)) * fx
                scaled = (top + (bottom - top) * fy) / 255
                expected = (scaled - mean[c]) / std[c]
                for b in range(batch) if only is None else [only]:
                    if layout == "nchw":
                        index = ((b * channels + c) * rows + y) * columns + x
                    else:
                        index = ((b * rows + y) * columns + x) * channels + c
                    worst = max(worst, abs(data[index] - expected))
    print("image preprocessing %s (max error %.2g)" %
          ("matches" if worst < 1e-5 else "DIFFERS", worst))


def main(args):
    command = args[0]
    if command in ("npy", "raw"):
        dims = [int(d) for d in args[2].split(",")]
        def option(name, default):
            return args[args.index(name) + 1] if name in args else default
        truncate = int(option("--truncate", 0))
        nan_index = option("--nan", None)
        data = npy_bytes(dims, "<f8" if "--f8" in args else "<f4",
                         "--fortran" in args, option("--shape-text", None),
                         None if nan_index is None else int(nan_index))
        if command == "raw":
            data = data[data.index(b"\n") + 1:]
        data = data[:len(data) - truncate] + b"\0" * int(option("--extra", 0))
        open(args[1], "wb").write(data)
    elif command == "png":
        write_png(args[1], int(args[2]), int(args[3]), args[4])
    elif command == "top1":
        shape, data = read_npy(args[1])
        classes = len(data) // shape[0]
        for image in range(shape[0]):
            row = data[image * classes:(image + 1) * classes]
            print("image %d top1 %d" % (image, row.index(max(row))))
    elif command == "check-image":
        check_image(int(args[1]), int(args[2]), args[3], args[4], args[5],
                    int(args[6]) if len(args) > 6 else None)


main(sys.argv[1:])
