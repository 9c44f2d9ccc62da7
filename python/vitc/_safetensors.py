"""safetensors files with NumPy only: what vitc writes and reads.

A safetensors file is an 8-byte little-endian header length, a JSON header
(per tensor: dtype, shape, data_offsets into the data section) and the raw
little-endian data. ``write`` produces the bytes ``vitc --save-weights``
produces for the same tensors (F32, names sorted, compact header with
sorted keys, padded with spaces to a multiple of 8 bytes, no
``__metadata__``), so that a model folder written from Python and one
re-saved by vitc are the same file (docs/model-config.md, "Loading
checkpoints").
"""

import json
import os
import struct

import numpy as np

_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2"}


def write(path, tensors):
    """Writes ``{name: array}`` as F32 safetensors at ``path``.

    Every array is converted to little-endian float32 (a float64 value is
    rounded); an array that is not floating point is a ``TypeError``.
    """
    names = sorted(tensors)
    header = {}
    blobs = []
    offset = 0
    for name in names:
        array = np.asarray(tensors[name])
        if array.dtype.kind != "f":
            raise TypeError("tensor %r has dtype %s; safetensors weights "
                            "for vitc are floating point" % (name,
                                                             array.dtype))
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"data_offsets": [offset, offset + len(data)],
                        "dtype": "F32",
                        "shape": [int(d) for d in array.shape]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), sort_keys=True)
    text += " " * (-len(text) % 8)
    with open(os.fspath(path), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode("ascii"))
        for blob in blobs:
            f.write(blob)


def read(path):
    """Reads a safetensors file: ``{name: float32 array}`` in file order.

    Accepts F32, F64 and F16 (converted to float32) and BF16; meant for
    files vitc reads, not as a validating reader (vitc's own is one).
    """
    with open(os.fspath(path), "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("%s: not a safetensors file (%d bytes)" %
                         (path, len(data)))
    (length,) = struct.unpack("<Q", data[:8])
    if 8 + length > len(data):
        raise ValueError("%s: the header length %d exceeds the file" %
                         (path, length))
    header = json.loads(data[8:8 + length])
    body = memoryview(data)[8 + length:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        dtype = entry["dtype"]
        raw = body[begin:end]
        if dtype == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        elif dtype in _DTYPES:
            array = np.frombuffer(raw, dtype=_DTYPES[dtype])
        else:
            raise ValueError("%s: tensor %r has dtype %s" % (path, name,
                                                             dtype))
        tensors[name] = array.astype(np.float32).reshape(shape)
    return tensors
