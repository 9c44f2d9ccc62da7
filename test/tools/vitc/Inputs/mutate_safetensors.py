"""Writes a damaged copy of a safetensors file, for the loader's error tests.

usage: mutate_safetensors.py IN OUT ACTION [TENSOR]
  truncate         drop the last 1000 bytes of the file
  drop TENSOR      remove a tensor from the header
  reshape TENSOR   swap its first two dimensions (rank 1: split it into
                   [2, n/2]); its byte size is unchanged
  retype TENSOR    relabel a tensor's dtype as I32 (same byte size)
  extra TENSOR     add a copy of a tensor under the name 'extra.weight'
  nan TENSOR       overwrite the first element of a tensor with NaN
  header-overrun   claim a header longer than the file
"""
import json
import struct
import sys


def read(path):
    data = open(path, "rb").read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    return header, bytearray(data[8 + size:])


def write(path, header, payload):
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(text)) + text + payload)


def main():
    source, target, action = sys.argv[1:4]
    name = sys.argv[4] if len(sys.argv) > 4 else None
    if action == "truncate":
        data = open(source, "rb").read()
        open(target, "wb").write(data[:-1000])
        return
    if action == "header-overrun":
        data = bytearray(open(source, "rb").read())
        data[:8] = struct.pack("<Q", len(data) * 2)
        open(target, "wb").write(data)
        return
    header, payload = read(source)
    entry = header[name]
    if action == "drop":
        begin, end = entry["data_offsets"]
        del header[name]
        # Keep the remaining tensors contiguous, as the format requires.
        del payload[begin:end]
        for other in header.values():
            if isinstance(other, dict) and "data_offsets" in other:
                lo, hi = other["data_offsets"]
                if lo >= end:
                    other["data_offsets"] = [lo - (end - begin), hi - (end - begin)]
    elif action == "reshape":
        shape = entry["shape"]
        if len(shape) >= 2 and shape[0] != shape[1]:
            shape[0], shape[1] = shape[1], shape[0]
        else:
            shape[0:1] = [2, shape[0] // 2]
    elif action == "retype":
        entry["dtype"] = "I32"
    elif action == "extra":
        begin, end = entry["data_offsets"]
        header["extra.weight"] = dict(entry, data_offsets=[len(payload), len(payload) + end - begin])
        payload += payload[begin:end]
    elif action == "nan":
        begin = entry["data_offsets"][0]
        payload[begin:begin + 4] = struct.pack("<f", float("nan"))
    else:
        sys.exit("unknown action " + action)
    write(target, header, payload)


if __name__ == "__main__":
    main()
