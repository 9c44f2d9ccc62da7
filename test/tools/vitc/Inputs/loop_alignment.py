"""Counts the loops of a CPU .vitb artifact's kernel object and how many of
their headers start on a 64-byte boundary.

  loop_alignment.py ARTIFACT.vitb WORKDIR

Extracts the ELF shared object the artifact embeds (its bytes run from the
ELF magic to the end of its section header table), disassembles it with
llvm-objdump (from PATH) and takes every backward conditional jump as the
end of a loop whose header is the jump's target (a backward jump that
leaves a loop for code placed before it counts too). Prints, per function,
how many loops there are and how many headers are not on a 64-byte
boundary. Standard library only.
"""
import re
import struct
import subprocess
import sys
from pathlib import Path

BACKWARD_JUMP = re.compile(r"^\s*([0-9a-f]+):\s+j(?!mp)[a-z]+\s+0x([0-9a-f]+)\b")
FUNCTION = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")


def extract_object(data):
    start = data.find(b"\x7fELF")
    if start < 0:
        sys.exit("no ELF object in the artifact")
    # ELF64: e_shoff at 0x28, e_shentsize and e_shnum at 0x3a.
    (section_headers,) = struct.unpack_from("<Q", data, start + 0x28)
    entry_size, count = struct.unpack_from("<HH", data, start + 0x3A)
    return data[start:start + section_headers + entry_size * count]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    artifact, workdir = Path(sys.argv[1]), Path(sys.argv[2])
    workdir.mkdir(parents=True, exist_ok=True)
    library = workdir / "kernels.so"
    library.write_bytes(extract_object(artifact.read_bytes()))
    listing = subprocess.run(
        ["llvm-objdump", "-d", "--no-show-raw-insn", str(library)],
        capture_output=True, text=True, check=True).stdout
    function, loops, misaligned = None, {}, {}
    for line in listing.splitlines():
        match = FUNCTION.match(line)
        if match:
            function = match.group(1)
            continue
        match = BACKWARD_JUMP.match(line)
        if not match or function is None:
            continue
        address, target = int(match.group(1), 16), int(match.group(2), 16)
        if target < address:
            loops.setdefault(function, set()).add(target)
            if target % 64:
                misaligned.setdefault(function, set()).add(target)
    for name in sorted(loops):
        print(f"{name}: {len(loops[name])} loops, "
              f"{len(misaligned.get(name, ()))} not 64-byte aligned")

if __name__ == "__main__":
    main()
