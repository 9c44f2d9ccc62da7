#!/usr/bin/env python3
"""Times `vitc -o` on a model for one or more vitc binaries, interleaved.

Each round compiles the model once with every binary (in turn, so that a
noisy machine affects them alike) and the table shows the median and the
best wall time of each binary and target, with the peak memory of the
median run.

    benchmarks/compile_time.py --vitc build/bin/vitc --vitc /tmp/old/vitc \
        --targets cpu cuda:sm_90 --rounds 5
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def compile_once(vitc, model, target, output):
    """Returns (wall seconds, peak RSS in MiB) of one compilation."""
    command = [vitc, "--model", model, "--random-weights", "--target", target,
               "-o", output]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, _, rusage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stderr = process.stderr.read().decode()
    process.stderr.close()
    if process.returncode not in (0, None) or "error" in stderr:
        sys.exit(f"{' '.join(command)} failed:\n{stderr}")
    return seconds, rusage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vitc", action="append", required=True,
                        help="a vitc binary (repeat to compare several)")
    parser.add_argument("--model", default="vit-b16")
    parser.add_argument("--targets", nargs="+", default=["cpu"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    times = {(vitc, target): [] for vitc in args.vitc for target in args.targets}
    with tempfile.TemporaryDirectory() as directory:
        output = os.path.join(directory, "model.vitb")
        for round_index in range(args.rounds):
            for target in args.targets:
                for vitc in args.vitc:
                    times[(vitc, target)].append(
                        compile_once(vitc, args.model, target, output))
            print(f"round {round_index + 1}/{args.rounds} done",
                  file=sys.stderr)

    print(f"| vitc | target | median wall (s) | best wall (s) | peak RSS (MiB) |")
    print(f"|---|---|---|---|---|")
    for (vitc, target), runs in times.items():
        walls = sorted(wall for wall, _ in runs)
        median = statistics.median(walls)
        rss = min(runs, key=lambda run: abs(run[0] - median))[1]
        print(f"| {vitc} | {target} | {median:.2f} | {walls[0]:.2f} | "
              f"{rss:.0f} |")


if __name__ == "__main__":
    main()
