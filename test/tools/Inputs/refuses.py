#!/usr/bin/env python3
"""Runs a command that must refuse a malformed input, and checks how: exit
status 1 and, on stderr, exactly one line, the one TEST_FILE gives after
"# KEY: ".

    refuses.py TEST_FILE KEY COMMAND [ARGUMENT...]

The expected line lives in the test file, as FileCheck's do, because lit
would replace the tool names in it (vit-run, vitc) on a RUN line. Exits 1
with what differed otherwise, so that the RUN line fails.
"""
import subprocess
import sys


def main():
    test_file, key, command = sys.argv[1], sys.argv[2], sys.argv[3:]
    marker = "# " + key + ": "
    expected = [line[len(marker):].rstrip("\n")
                for line in open(test_file) if line.startswith(marker)]
    if len(expected) != 1:
        sys.exit(f"{test_file}: {len(expected)} lines start with {marker!r}")
    expected = expected[0]
    result = subprocess.run(command, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, timeout=300)
    lines = result.stderr.decode("utf-8", "replace").splitlines()
    problems = []
    if result.returncode != 1:
        problems.append(f"exit status {result.returncode}, expected 1")
    if lines != [expected]:
        problems.append("expected one line on stderr:\n  " + expected +
                        "\ngot " + str(len(lines)) + ":\n  " +
                        "\n  ".join(lines))
    if problems:
        sys.exit(" ".join(command) + "\n" + "\n".join(problems))


if __name__ == "__main__":
    main()
