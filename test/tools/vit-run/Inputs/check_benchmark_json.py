"""Checks vit-run's --benchmark-json file against its text report.

  check_benchmark_json.py REPORT.json STDOUT.txt ITERATIONS KERNELS

The JSON must parse, hold ITERATIONS run latencies whose nearest-rank
percentiles, mean, min and max are its latency_ms figures, agree with the
text report's p50 and mean to its printed precision, and list KERNELS
kernels (0 without --profile) whose shares add up to 1. Prints "ok" or the
first mismatch (and exits 1). Standard library only.
"""
import json
import math
import re
import sys


def fail(message):
    print("MISMATCH: " + message)
    sys.exit(1)


def main(path, stdout, iterations, kernels):
    report = json.load(open(path))
    runs = report["run_ms"]
    if len(runs) != iterations or report["iterations"] != iterations:
        fail("%d runs for %d iterations" % (len(runs), iterations))
    ordered = sorted(runs)

    def percentile(p):
        return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]

    latency = report["latency_ms"]
    expected = {"p50": percentile(50), "p90": percentile(90),
                "p99": percentile(99), "mean": sum(runs) / len(runs),
                "min": ordered[0], "max": ordered[-1]}
    for name, value in expected.items():
        if not math.isclose(latency[name], value, rel_tol=1e-6):
            fail("%s is %g, the runs give %g" % (name, latency[name], value))
    text = open(stdout).read()
    for name in ("p50", "mean"):
        printed = float(re.search(r"latency %s +([0-9.]+) ms" % name,
                                  text).group(1))
        if abs(printed - latency[name]) > 0.0005 + 1e-9:
            fail("text %s %.3f, JSON %g" % (name, printed, latency[name]))
    if len(report["kernels"]) != kernels:
        fail("%d kernels, expected %d" % (len(report["kernels"]), kernels))
    if kernels and not math.isclose(
            sum(k["share"] for k in report["kernels"]), 1.0, rel_tol=1e-6):
        fail("kernel shares do not add up to 1")
    print("ok")


main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
