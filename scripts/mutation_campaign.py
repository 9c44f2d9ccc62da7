#!/usr/bin/env python3
"""Random mutations of a tiny artifact and of its weights, through the real
tools: how many are refused, how many run, and that none crashes or hangs.

    scripts/mutation_campaign.py [--mutations N] [--seed S] [--jobs J]
                                 [--vitc build/bin/vitc] [--vit-run ...]

It compiles a tiny model (ViT-Ti/16, one block, 32x32 images) with its
seeded random weights, then, N times each:

- mutates the .vitb (one flipped bit, or a run of 1 to 64 random bytes, in
  the kernel code, the weights or the tables, a third of the time each)
  and runs `vit-run` on it;
- mutates the .safetensors (anywhere) the same way and compiles it with
  `vitc --weights ... --summary` (which reads and validates every tensor).

Every outcome is one of: refused (exit status 1 and exactly one line on
stderr), ran (exit status 0), or a failure: a crash (a signal), a hang
(more than 20 s), or a refusal that is not one line with status 1. For the
artifact it also tells, from the file's own FlatBuffers layout, whether the
mutation hit the kernel code, the weights or the tables: since format
version 3 the three checksums cover every byte, so every artifact mutation
must be refused; a weights mutation may run (a changed value is still a
valid weight). Prints a table; exits 1 on any failure, or if any artifact
mutation ran. docs/robustness.md records the figures.
"""

import argparse
import collections
import concurrent.futures
import functools
import os
import pathlib
import random
import re
import struct
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "include" / "vitc" / "Artifact" / "vitb.fbs"
TINY = ["--model", "vit-ti16", "--depth", "1", "--image-size", "32"]
TIMEOUT = 20


def vector_range(data, table, field):
    """The byte range of the elements of vector field `field` of the
    FlatBuffers table at `table`, or None if the field is absent."""
    vtable = table - struct.unpack_from("<i", data, table)[0]
    vtable_size = struct.unpack_from("<H", data, vtable)[0]
    if 4 + 2 * field >= vtable_size:
        return None
    offset = struct.unpack_from("<H", data, vtable + 4 + 2 * field)[0]
    if offset == 0:
        return None
    at = table + offset
    vector = at + struct.unpack_from("<I", data, at)[0]
    length = struct.unpack_from("<I", data, vector)[0]
    return vector + 4, length


@functools.lru_cache(maxsize=None)
def field_index(table, field):
    """The FlatBuffers field number of `field` in `table` of the artifact
    schema: its position among the table's fields, in declaration order
    (the schema gives no field an explicit id)."""
    body = re.search(r"^table %s \{(.*?)^\}" % table, SCHEMA.read_text(),
                     re.M | re.S)
    fields = re.findall(r"^\s*(\w+)\s*:", body.group(1), re.M)
    return fields.index(field)


def regions(data):
    """[(begin, end, name)] of the kernel modules' data (KernelModule.data)
    and the constant data (Artifact.constant_data)."""
    root = struct.unpack_from("<I", data, 0)[0]
    found = []
    modules = vector_range(data, root, field_index("Artifact", "modules"))
    if modules:
        start, count = modules
        for m in range(count):
            slot = start + 4 * m
            module = slot + struct.unpack_from("<I", data, slot)[0]
            code = vector_range(data, module,
                                field_index("KernelModule", "data"))
            if code:
                found.append((code[0], code[0] + code[1], "code"))
    constants = vector_range(data, root,
                             field_index("Artifact", "constant_data"))
    if constants:
        found.append((constants[0], constants[0] + constants[1], "weights"))
    return found


def region_of(offset, spans):
    for begin, end, name in spans:
        if begin <= offset < end:
            return name
    return "tables"


def pick_offset(data, rng, spans):
    """A random offset: uniform over the file, or, for an artifact, in a
    region drawn first (code, weights and tables each a third of the time,
    so that the 6 KB of tables are not drowned by megabytes of weights)."""
    if spans is None:
        return rng.randrange(len(data))
    region = rng.choice(sorted({name for _, _, name in spans} | {"tables"}))
    while True:
        if region != "tables":
            begin, end, _ = rng.choice([s for s in spans if s[2] == region])
            return rng.randrange(begin, end)
        offset = rng.randrange(len(data))
        if region_of(offset, spans) == "tables":
            return offset


def mutate(data, rng, spans):
    """A copy of `data` with one flipped bit or a run of random bytes, and
    where: (offset, kind)."""
    offset = pick_offset(data, rng, spans)
    data = bytearray(data)
    if rng.random() < 0.7:
        data[offset] ^= 1 << rng.randrange(8)
        return bytes(data), offset, "bit"
    length = min(rng.randint(1, 64), len(data) - offset)
    run = bytes(rng.getrandbits(8) for _ in range(length))
    if run == bytes(data[offset:offset + length]):
        run = bytes((b ^ 0xFF) for b in run)
    data[offset:offset + length] = run
    return bytes(data), offset, "run"


def classify(command):
    """refused, ran, crash, hang or bad-refusal, and the stderr line."""
    try:
        result = subprocess.run(command, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "hang", ""
    lines = result.stderr.decode("utf-8", "replace").splitlines()
    if result.returncode < 0:
        return "crash", "signal %d" % -result.returncode
    if result.returncode == 0:
        return "ran", ""
    if result.returncode == 1 and len(lines) == 1:
        return "refused", lines[0]
    return "bad-refusal", "status %d, %d lines: %s" % (
        result.returncode, len(lines), " | ".join(lines[:3]))


def campaign(name, original, mutations, seed, jobs, scratch, command_for,
             spans=None):
    rng = random.Random(seed)
    cases = []
    for index in range(mutations):
        data, offset, kind = mutate(original, rng, spans)
        path = scratch / ("%s-%05d%s" % (name, index, original_suffix[name]))
        path.write_bytes(data)
        where = region_of(offset, spans) if spans is not None else "file"
        cases.append((path, offset, kind, where))

    def run(case):
        path, offset, kind, where = case
        outcome, line = classify(command_for(path))
        line = line.replace(str(path), "FILE")
        if outcome in ("refused", "ran"):
            path.unlink()
        return case, outcome, line

    counts = collections.Counter()
    reasons = collections.Counter()
    failures = []
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for (path, offset, kind, where), outcome, line in pool.map(run, cases):
            counts[(where, outcome)] += 1
            if outcome == "refused":
                # The message after "tool: error: ", to group by.
                reasons[line.split(": ", 2)[-1][:70]] += 1
            if outcome not in ("refused", "ran"):
                failures.append((path, offset, kind, outcome, line))
    return counts, reasons, failures


original_suffix = {"artifact": ".vitb", "weights": ".safetensors"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutations", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--vitc", default=str(ROOT / "build/bin/vitc"))
    parser.add_argument("--vit-run", default=str(ROOT / "build/bin/vit-run"))
    parser.add_argument("--keep", help="directory for the failing inputs")
    args = parser.parse_args()

    failed = False
    with tempfile.TemporaryDirectory() as temp:
        scratch = pathlib.Path(args.keep or temp)
        scratch.mkdir(parents=True, exist_ok=True)
        weights = scratch / "tiny.safetensors"
        artifact = scratch / "tiny.vitb"
        subprocess.run([args.vitc, *TINY, "--random-weights", "--save-weights",
                        str(weights), "-o", str(artifact)], check=True,
                       stderr=subprocess.DEVNULL)
        sources = {
            "artifact": (artifact.read_bytes(),
                         lambda path: [args.vit_run, str(path),
                                       "--threads", "1"]),
            "weights": (weights.read_bytes(),
                        lambda path: [args.vitc, *TINY, "--weights", str(path),
                                      "--summary"]),
        }
        for name, (original, command_for) in sources.items():
            spans = regions(original) if name == "artifact" else None
            start = time.monotonic()
            counts, reasons, failures = campaign(
                name, original, args.mutations, args.seed, args.jobs, scratch,
                command_for, spans)
            seconds = time.monotonic() - start
            print("%s: %d mutations of %d bytes in %.0f s (seed %d)" %
                  (name, args.mutations, len(original), seconds, args.seed))
            if spans is not None:
                sizes = collections.Counter()
                for begin, end, region in spans:
                    sizes[region] += end - begin
                sizes["tables"] = len(original) - sum(sizes.values())
                print("  bytes: " + ", ".join(
                    "%s %d" % item for item in sorted(sizes.items())))
            print("  %-8s %8s %8s %8s" % ("where", "refused", "ran",
                                          "failed"))
            for where in sorted({where for where, _ in counts}):
                bad = sum(n for (w, o), n in counts.items()
                          if w == where and o not in ("refused", "ran"))
                print("  %-8s %8d %8d %8d" % (where,
                                              counts[(where, "refused")],
                                              counts[(where, "ran")], bad))
            print("  refusals by message:")
            for reason, count in reasons.most_common(8):
                print("    %6d  %s" % (count, reason))
            for path, offset, kind, outcome, line in failures[:10]:
                print("  FAILED %s at %d (%s): %s %s" %
                      (path.name, offset, kind, outcome, line))
            ran = sum(n for (w, o), n in counts.items() if o == "ran")
            if failures or (name == "artifact" and ran):
                failed = True
    print("FAIL" if failed else "PASS: no crash, hang or malformed refusal; "
          "every artifact mutation refused")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
