//===- Benchmark.h - Timing a model and reporting it ------------*- C++ -*-===//
//
// vit-run --benchmark: times runs of a session, then reports latency
// percentiles, throughput, compute and (with --profile) every kernel's time,
// as text on stdout and, with --benchmark-json, as a JSON file.
//
//===----------------------------------------------------------------------===//

#ifndef VITRUN_BENCHMARK_H
#define VITRUN_BENCHMARK_H

#include "vitc/Runtime/vitrt.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vitrun {

/// One kernel's share of the profiled runs, per run.
struct KernelTime {
  std::string name;
  int64_t dispatches = 0;
  double milliseconds = 0;
  /// Of all kernels' time.
  double share = 0;
  double mebibytes = 0;
  /// None for kernels without multiply-accumulates.
  std::optional<double> gflops;
};

/// What a benchmark measured.
struct BenchmarkResult {
  uint64_t warmup = 0;
  int64_t batch = 0;
  /// Each timed run's latency, in run order.
  std::vector<double> runMilliseconds;
  double p50 = 0, p90 = 0, p99 = 0, mean = 0, min = 0, max = 0;
  /// Multiply-accumulates per image the artifact records (0: unknown).
  int64_t macsPerImage = 0;
  /// With --profile, slowest first.
  std::vector<KernelTime> kernels;
};

/// Runs `warmup` untimed and `iterations` timed runs of `session` on
/// `inputs`, with progress on stderr for more than 50 timed runs; with
/// `profile`, also times every kernel. False with the runtime's error.
bool runBenchmark(vitrt_session *session, const float *const *inputs,
                  float *const *outputs, uint64_t warmup, uint64_t iterations,
                  int64_t batch, bool profile, BenchmarkResult &result);

/// The report on stdout.
void printBenchmark(const BenchmarkResult &result);

/// Where the numbers were taken, for the JSON report.
struct BenchmarkContext {
  std::string artifact, model, target, precision, workers;
};

/// Writes `result` as JSON to `path`; false with `error` naming the file.
bool writeBenchmarkJson(const std::string &path,
                        const BenchmarkContext &context,
                        const BenchmarkResult &result, std::string &error);

} // namespace vitrun

#endif // VITRUN_BENCHMARK_H
