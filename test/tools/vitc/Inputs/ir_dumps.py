"""Prints the IR of the `--mlir-print-ir-*` dumps vitc wrote to stderr.

Reads stderr from stdin and keeps the text from the first dump up to the
next line of vitc's own (progress and report lines start with "vitc: "),
without the dump headers. With --last, only the last dump. Lets a test
compare what `vitc -o` compiled with what `vitc --emit` printed.
"""
import sys

MARKER = "// -----// IR Dump"
lines = sys.stdin.read().splitlines()
start = next((i for i, line in enumerate(lines) if line.startswith(MARKER)),
             None)
if start is None:
    sys.exit("no IR dump in the input")
end = next((i for i in range(start, len(lines))
            if lines[i].startswith("vitc: ")), len(lines))
dumps = []
for line in lines[start:end]:
    if line.startswith(MARKER):
        dumps.append([])
    else:
        dumps[-1].append(line)
if "--last" in sys.argv[1:]:
    dumps = dumps[-1:]
print("\n".join("\n".join(dump).strip() for dump in dumps))
