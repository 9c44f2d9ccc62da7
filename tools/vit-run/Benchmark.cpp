//===- Benchmark.cpp - Timing a model and reporting it --------------------===//

#include "Benchmark.h"
#include "Support.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

using namespace vitrun;

static constexpr double kMiB = 1024.0 * 1024.0;

/// The kernels' times over `iterations` profiled runs, per run, slowest
/// first.
static std::vector<KernelTime> kernelTimes(const vitrt_session *session,
                                           uint64_t iterations) {
  std::vector<vitrt_kernel_profile> profiles;
  for (size_t i = 0; i < vitrt_session_kernel_count(session); ++i)
    if (vitrt_session_kernel_profile(session, i, &profiles.emplace_back()) !=
        VITRT_OK)
      profiles.pop_back();
  std::sort(profiles.begin(), profiles.end(),
            [](const auto &a, const auto &b) { return a.seconds > b.seconds; });
  double total = 0;
  for (const vitrt_kernel_profile &profile : profiles)
    total += profile.seconds;
  std::vector<KernelTime> kernels;
  for (const vitrt_kernel_profile &profile : profiles) {
    KernelTime &kernel = kernels.emplace_back();
    kernel.name = profile.name;
    kernel.dispatches = profile.dispatches / iterations;
    kernel.milliseconds = profile.seconds * 1e3 / iterations;
    kernel.share = total > 0 ? profile.seconds / total : 0.0;
    kernel.mebibytes =
        double(profile.bytes_bound) * profile.dispatches / iterations / kMiB;
    if (profile.multiply_accumulates > 0 && profile.seconds > 0)
      kernel.gflops = 2.0 * profile.multiply_accumulates * profile.dispatches /
                      profile.seconds / 1e9;
  }
  return kernels;
}

bool vitrun::runBenchmark(vitrt_session *session, const float *const *inputs,
                          float *const *outputs, uint64_t warmup,
                          uint64_t iterations, int64_t batch, bool profile,
                          BenchmarkResult &result) {
  for (uint64_t i = 0; i < warmup; ++i)
    if (vitrt_session_run(session, inputs, outputs) != VITRT_OK)
      return false;
  if (profile && vitrt_session_set_profiling(session, 1) != VITRT_OK)
    return false;

  std::vector<double> &latencies = result.runMilliseconds;
  latencies.assign(iterations, 0.0);
  for (uint64_t i = 0; i < iterations; ++i) {
    auto start = std::chrono::steady_clock::now();
    vitrt_status status = vitrt_session_run(session, inputs, outputs);
    auto end = std::chrono::steady_clock::now();
    if (status != VITRT_OK)
      return false;
    latencies[i] =
        std::chrono::duration<double, std::milli>(end - start).count();
    // A line per 10% of the runs, to stderr so stdout stays the report.
    if (iterations > 50 && (i + 1) * 10 / iterations > i * 10 / iterations)
      std::fprintf(
          stderr, "vit-run: benchmark %llu%% (%llu/%llu runs)\n",
          static_cast<unsigned long long>((i + 1) * 10 / iterations * 10),
          static_cast<unsigned long long>(i + 1),
          static_cast<unsigned long long>(iterations));
  }

  std::vector<double> sorted = latencies;
  std::sort(sorted.begin(), sorted.end());
  // Nearest-rank percentiles.
  auto percentile = [&](double p) {
    size_t rank = static_cast<size_t>(std::ceil(p / 100 * iterations));
    return sorted[std::max<size_t>(rank, 1) - 1];
  };
  result.warmup = warmup;
  result.batch = batch;
  result.p50 = percentile(50);
  result.p90 = percentile(90);
  result.p99 = percentile(99);
  result.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / iterations;
  result.min = sorted.front();
  result.max = sorted.back();
  result.macsPerImage = vitrt_session_macs_per_image(session);
  if (profile)
    result.kernels = kernelTimes(session, iterations);
  return true;
}

/// Images per second at the mean latency.
static double imagesPerSecond(const BenchmarkResult &result) {
  return result.batch / (result.mean / 1e3);
}

/// GFLOP/s at the mean latency (0 when the MACs are unknown).
static double gflopsPerSecond(const BenchmarkResult &result) {
  return 2.0 * result.macsPerImage * imagesPerSecond(result) / 1e9;
}

/// Each kernel's time per run, slowest first, and the kernels' total
/// against the mean latency.
static void printProfile(const BenchmarkResult &result) {
  const std::vector<KernelTime> &kernels = result.kernels;
  double milliseconds = 0, mebibytes = 0;
  int64_t dispatches = 0;
  for (const KernelTime &kernel : kernels) {
    milliseconds += kernel.milliseconds;
    mebibytes += kernel.mebibytes;
    dispatches += kernel.dispatches;
  }
  // The name column fits the longest name ("blocks.11.attn.qkv[768:2304]").
  int nameWidth = 28;
  for (const KernelTime &kernel : kernels)
    nameWidth = std::max(nameWidth, int(kernel.name.size()));
  std::printf("kernels: wall time per run over the %zu timed runs\n",
              result.runMilliseconds.size());
  std::printf("  %-*s %10s %10s %7s %9s %9s\n", nameWidth, "kernel",
              "dispatches", "ms", "share", "MiB", "GFLOP/s");
  for (const KernelTime &kernel : kernels) {
    std::printf("  %-*s %10lld %10.3f %6.1f%% %9.1f", nameWidth,
                kernel.name.c_str(), static_cast<long long>(kernel.dispatches),
                kernel.milliseconds, 100 * kernel.share, kernel.mebibytes);
    if (kernel.gflops)
      std::printf(" %9.1f", *kernel.gflops);
    std::printf("\n");
  }
  std::printf("  %-*s %10lld %10.3f %7s %9.1f (%.1f%% of the mean latency; "
              "the rest is the runtime between kernels)\n",
              nameWidth, "all kernels", static_cast<long long>(dispatches),
              milliseconds, "", mebibytes, 100 * milliseconds / result.mean);
}

void vitrun::printBenchmark(const BenchmarkResult &result) {
  std::printf("benchmark: %llu warm-up and %zu timed runs, batch %lld\n",
              static_cast<unsigned long long>(result.warmup),
              result.runMilliseconds.size(),
              static_cast<long long>(result.batch));
  std::printf("  latency p50   %.3f ms\n", result.p50);
  std::printf("  latency p90   %.3f ms\n", result.p90);
  std::printf("  latency p99   %.3f ms\n", result.p99);
  std::printf("  latency mean  %.3f ms\n", result.mean);
  std::printf("  throughput    %.1f images/s\n", imagesPerSecond(result));
  if (result.macsPerImage > 0)
    std::printf("  compute       %.2f GFLOP/s (%.3f GFLOP per image)\n",
                gflopsPerSecond(result), 2.0 * result.macsPerImage / 1e9);
  else
    std::printf("  compute       unknown (the artifact records no MACs)\n");
  if (!result.kernels.empty())
    printProfile(result);
}

/// `text` as a JSON string. Bytes outside printable ASCII (names come from
/// the artifact) are written as \u00XX, so the file is valid JSON whatever
/// they are.
static std::string jsonString(const std::string &text) {
  std::string quoted = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += char(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof(escape), "\\u%04x", c);
      quoted += escape;
    } else {
      quoted += char(c);
    }
  }
  return quoted + "\"";
}

/// A finite number as JSON.
static std::string jsonNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.9g", value);
  return text;
}

bool vitrun::writeBenchmarkJson(const std::string &path,
                                const BenchmarkContext &context,
                                const BenchmarkResult &result,
                                std::string &error) {
  std::string json = "{\n";
  auto field = [&](const char *name, const std::string &value, bool last) {
    json += "  " + jsonString(name) + ": " + value + (last ? "\n" : ",\n");
  };
  field("artifact", jsonString(context.artifact), false);
  field("model", jsonString(context.model), false);
  field("target", jsonString(context.target), false);
  field("precision", jsonString(context.precision), false);
  field("workers", jsonString(context.workers), false);
  field("batch", std::to_string(result.batch), false);
  field("warmup", std::to_string(result.warmup), false);
  field("iterations", std::to_string(result.runMilliseconds.size()), false);
  field("latency_ms",
        "{\"p50\": " + jsonNumber(result.p50) + ", \"p90\": " +
            jsonNumber(result.p90) + ", \"p99\": " + jsonNumber(result.p99) +
            ", \"mean\": " + jsonNumber(result.mean) +
            ", \"min\": " + jsonNumber(result.min) +
            ", \"max\": " + jsonNumber(result.max) + "}",
        false);
  field("images_per_second", jsonNumber(imagesPerSecond(result)), false);
  bool knownMacs = result.macsPerImage > 0;
  field("gflop_per_image",
        knownMacs ? jsonNumber(2.0 * result.macsPerImage / 1e9) : "null",
        false);
  field("gflops_per_second",
        knownMacs ? jsonNumber(gflopsPerSecond(result)) : "null", false);
  std::string runs = "[";
  for (size_t i = 0; i < result.runMilliseconds.size(); ++i)
    runs += (i ? ", " : "") + jsonNumber(result.runMilliseconds[i]);
  field("run_ms", runs + "]", false);
  std::string kernels = "[";
  for (size_t i = 0; i < result.kernels.size(); ++i) {
    const KernelTime &kernel = result.kernels[i];
    kernels += std::string(i ? "," : "") +
               "\n    {\"name\": " + jsonString(kernel.name) +
               ", \"dispatches\": " + std::to_string(kernel.dispatches) +
               ", \"ms\": " + jsonNumber(kernel.milliseconds) +
               ", \"share\": " + jsonNumber(kernel.share) +
               ", \"mib\": " + jsonNumber(kernel.mebibytes) +
               ", \"gflops_per_second\": " +
               (kernel.gflops ? jsonNumber(*kernel.gflops) : "null") + "}";
  }
  field("kernels", kernels + (result.kernels.empty() ? "]" : "\n  ]"), true);
  json += "}\n";

  return writeFile(path, {json}, error);
}
