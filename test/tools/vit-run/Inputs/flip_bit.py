#!/usr/bin/env python3
"""Writes a copy of a .vitb artifact with one bit flipped, in its kernel code,
in its weights or in its tables, for the checksum tests.

    flip_bit.py code ARTIFACT OUT
    flip_bit.py weight ARTIFACT OUT WEIGHTS.safetensors NAME
    flip_bit.py table ARTIFACT OUT
    flip_bit.py binding ARTIFACT OUT

`code` flips a bit in the middle of the embedded ELF shared object (from
its magic number to its section headers' end). `weight` flips a bit of the
tensor NAME, which it finds in the artifact by the first 32 bytes of its
values in WEIGHTS (the file vitc --save-weights wrote), so NAME must be a
weight the compiler stores as it is (e.g. head.weight). `table` flips a
bit of the model configuration in the metadata (the key "hidden_size"),
which nothing but the plan checksum would notice. `binding` adds 4 to the
size of the first binding into the arena (a Binding struct: kind 3, three
bytes of padding, index 0, then offset and size as int64, the offset a
multiple of the arena's 256-byte alignment); resealed, only the check of
the kernel's signature would notice.
"""

import json
import struct
import sys


def flip(data, offset):
    data[offset] ^= 0x10
    return data


def main():
    mode, artifact, out = sys.argv[1:4]
    data = bytearray(open(artifact, "rb").read())
    if mode == "code":
        start = data.find(b"\x7fELF")
        if start < 0:
            sys.exit(f"{artifact}: no ELF object inside")
        # e_shoff + e_shentsize * e_shnum: the end of an ELF64 object.
        (shoff,) = struct.unpack_from("<Q", data, start + 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, start + 0x3A)
        data = flip(data, start + (shoff + shentsize * shnum) // 2)
    elif mode == "weight":
        weights, name = sys.argv[4:6]
        blob = open(weights, "rb").read()
        (header_size,) = struct.unpack_from("<Q", blob)
        header = json.loads(blob[8:8 + header_size])
        begin = 8 + header_size + header[name]["data_offsets"][0]
        pattern = blob[begin:begin + 32]
        offset = data.find(pattern)
        if offset < 0:
            sys.exit(f"{artifact}: the values of {name} are not stored as is")
        data = flip(data, offset + 17)
    elif mode == "table":
        offset = data.find(b'"hidden_size"')
        if offset < 0:
            sys.exit(f"{artifact}: no model configuration inside")
        data = flip(data, offset + 1)
    elif mode == "binding":
        for offset in range(0, len(data) - 24, 8):
            kind, index, start, size = struct.unpack_from("<B3xiqq", data,
                                                          offset)
            if (kind, index) == (3, 0) and start % 256 == 0 and size > 0:
                data[offset + 16] ^= 0x04
                break
        else:
            sys.exit(f"{artifact}: no arena binding found")
    else:
        sys.exit(f"unknown mode {mode}; expected code, weight, table or "
                 "binding")
    open(out, "wb").write(data)


if __name__ == "__main__":
    main()
