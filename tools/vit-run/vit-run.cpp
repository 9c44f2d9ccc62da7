//===- vit-run.cpp - Run and benchmark compiled ViT artifacts -------------===//
//
// Loads a .vitb artifact with the vitrt runtime, feeds it an image, an array
// or random values, prints the top-k classes per image, optionally saves the
// logits and times the model. Plain C++17 over the vitrt C API: it links
// neither MLIR nor LLVM, so its option parser is its own.
//
//===----------------------------------------------------------------------===//

#include "Benchmark.h"
#include "Inputs.h"
#include "Npy.h"
#include "vitc/Runtime/vitrt.h"
#include "vitc/Support/EscapedText.h"
#include "vitc/Version.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <thread>

using namespace vitrun;

// Bytes, not a string literal: see EmbedFile.cmake.
static const unsigned char kImageNetLabels[] = {
#include "ImageNetLabels.inc"
};

static const char kHelp[] =
    R"(OVERVIEW: run and benchmark a ViT compiled by vitc

USAGE: vit-run model.vitb [options]

Runs the model once and prints the top-k classes of every image of the
batch. Without --input the model gets random input.

INPUT:
  --input FILE        The model input, by extension:
                        .npy  float32 of the model's input shape ([B, C, H, W]
                              or [B, H, W, C]: see the "input:" line), or
                              that shape without B when B is 1
                        .bin, .raw  raw little-endian float32 of that shape
                        .png, .jpg, .jpeg  resized bilinearly to H x W,
                              scaled to [0, 1], normalised with the model's
                              pixel mean and std, used for every image;
                              or --input once per image of the batch, each
                              a picture
  --random-input      Uniform random values in [-1, 1) (the default)
  --seed N            Seed of the random input (default 0)

OUTPUT:
  --topk K            Classes printed per image (default 5)
  --labels FILE       Class names, one per line (default: the artifact's
                      own, else the built-in ImageNet-1k names); shown only
                      if there is one per class
  --output FILE       Write the logits as a float32 .npy of the output shape
  --save-input FILE   Write the model input as a float32 .npy, to check the
                      preprocessing of an image

BENCHMARK:
  --benchmark         Time the model: latency p50/p90/p99/mean, images/s and
                      GFLOP/s
  --warmup N          Untimed runs first (default 10)
  --iterations N      Timed runs (default 100)
  --profile           Also time every kernel over the timed runs and print
                      each one's time per run, share, bytes bound and
                      GFLOP/s (CPU)
  --benchmark-json FILE
                      Also write the figures, each timed run's latency and
                      (with --profile) each kernel's figures as JSON

EXECUTION:
  --threads N         CPU worker threads (default 0: every hardware thread)
  --device N          CUDA device ordinal (default 0)

  -h, --help          Show this help
  --version           Show the version

EXAMPLES:
  vit-run vit-b16.vitb --input cat.jpg
  vit-run vit-b16-batch2.vitb --input cat.jpg --input dog.png
  vit-run vit-b16.vitb --input batch.npy --output logits.npy --topk 1
  vit-run vit-b16.vitb --benchmark --threads 8
)";

namespace {
struct Options {
  std::string model;
  /// One file for the whole input, or one picture per image of the batch.
  std::vector<std::string> inputs;
  bool randomInput = false;
  std::optional<uint64_t> seed;
  uint64_t topk = 5;
  std::optional<std::string> labels, output, saveInput;
  bool benchmark = false;
  bool profile = false;
  std::optional<std::string> benchmarkJson;
  std::optional<uint64_t> warmup, iterations;
  uint64_t threads = 0;
  uint64_t device = 0;
};

enum class ParseResult { Run, Exit, Error };
} // namespace

static ParseResult parseArgs(int argc, char **argv, Options &options,
                             std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      if (!options.model.empty()) {
        error = "unexpected argument '" + arg +
                "': vit-run runs one model artifact";
        return ParseResult::Error;
      }
      options.model = arg;
      continue;
    }
    // "--name=value" or "--name value".
    size_t equals = arg.find('=');
    std::string name = arg.substr(0, equals);
    std::optional<std::string> attached;
    if (equals != std::string::npos)
      attached = arg.substr(equals + 1);

    auto text = [&](std::string &value) {
      if (!attached && i + 1 == argc) {
        error = "option '" + name + "' needs a value";
        return false;
      }
      value = attached ? *attached : argv[++i];
      return true;
    };
    auto number = [&](uint64_t min, uint64_t max, uint64_t &value) {
      std::string digits;
      if (!text(digits))
        return false;
      if (!parseUnsigned(digits, UINT64_MAX, value) || value < min)
        error = name + " must be a " + (min ? "positive" : "non-negative") +
                " integer, got '" + digits + "'";
      else if (value > max)
        error = name + " must be at most " + std::to_string(max) + ", got '" +
                digits + "'";
      return error.empty();
    };
    auto flag = [&](bool &value) {
      if (attached) {
        error = "option '" + name + "' takes no value";
        return false;
      }
      return value = true;
    };

    bool ok;
    if (name == "-h" || name == "--help") {
      std::fputs(kHelp, stdout);
      return ParseResult::Exit;
    } else if (name == "--version") {
      std::printf("vit-run (vitc) %s\n", VITC_VERSION_STRING);
      return ParseResult::Exit;
    } else if (name == "--input") {
      ok = text(options.inputs.emplace_back());
    } else if (name == "--random-input") {
      ok = flag(options.randomInput);
    } else if (name == "--seed") {
      ok = number(0, UINT64_MAX, options.seed.emplace());
    } else if (name == "--topk") {
      ok = number(1, INT_MAX, options.topk);
    } else if (name == "--labels") {
      ok = text(options.labels.emplace());
    } else if (name == "--output") {
      ok = text(options.output.emplace());
    } else if (name == "--save-input") {
      ok = text(options.saveInput.emplace());
    } else if (name == "--benchmark") {
      ok = flag(options.benchmark);
    } else if (name == "--profile") {
      ok = flag(options.profile);
    } else if (name == "--benchmark-json") {
      ok = text(options.benchmarkJson.emplace());
    } else if (name == "--warmup") {
      ok = number(0, INT_MAX, options.warmup.emplace());
    } else if (name == "--iterations") {
      ok = number(1, INT_MAX, options.iterations.emplace());
    } else if (name == "--threads") {
      ok = number(0, VITRT_MAX_THREADS, options.threads);
    } else if (name == "--device") {
      ok = number(0, INT_MAX, options.device);
    } else {
      error = "unknown option '" + name + "' (see --help)";
      ok = false;
    }
    if (!ok)
      return ParseResult::Error;
  }

  if (options.model.empty())
    error = "no model artifact given (usage: vit-run model.vitb [options]; "
            "see --help)";
  else if (!options.inputs.empty() && options.randomInput)
    error = "--input and --random-input are mutually exclusive";
  else if (!options.inputs.empty() && options.seed)
    error = "--seed applies only to random input, not to --input";
  else if (!options.benchmark && (options.profile || options.benchmarkJson))
    error = std::string(options.profile ? "--profile" : "--benchmark-json") +
            " needs --benchmark";
  else if (!options.benchmark && (options.warmup || options.iterations))
    error = std::string(options.warmup ? "--warmup" : "--iterations") +
            " needs --benchmark";
  return error.empty() ? ParseResult::Run : ParseResult::Error;
}

static int fail(const std::string &message) {
  std::fprintf(stderr, "vit-run: error: %s\n", message.c_str());
  return 1;
}

static int failRuntime() { return fail(vitrt_last_error()); }

static Shape shapeOf(const vitrt_tensor_info &info) {
  return Shape(info.dims, info.dims + info.rank);
}

/// What runs the model: the CUDA device, or the number of CPU threads.
static std::string describeWorkers(const std::string &kind,
                                   const Options &options) {
  if (kind == "cuda")
    return "device " + std::to_string(options.device);
  uint64_t threads =
      options.threads ? options.threads : std::thread::hardware_concurrency();
  if (threads == 0)
    return "all hardware threads";
  return std::to_string(threads) + (threads == 1 ? " thread" : " threads");
}

/// Sizes `buffer` for a tensor of `shape`, or says why it cannot: shapes
/// come from the artifact, and a damaged one may claim more memory than
/// there is.
static bool allocate(const Shape &shape, const char *kind,
                     std::string_view name, std::vector<float> &buffer,
                     std::string &error) {
  try {
    buffer.assign(numElements(shape), 0.0f);
    return true;
  } catch (const std::bad_alloc &) {
  } catch (const std::length_error &) {
  }
  error = std::string("cannot allocate memory for the ") + kind + " '" +
          vitc::escapedText(name) + "' " + formatShape(shape);
  return false;
}

/// Writes a tensor as .npy and says so.
static bool save(const std::string &path, const std::string &name,
                 const Shape &shape, const std::vector<float> &data,
                 std::string &error) {
  if (!writeNpy(path, shape, data.data(), error))
    return false;
  std::printf("saved:   %s %s to %s\n", name.c_str(),
              formatShape(shape).c_str(), path.c_str());
  return true;
}

static int digitCount(int64_t value) { return std::to_string(value).size(); }

static size_t countNonFinite(const std::vector<float> &values) {
  return std::count_if(values.begin(), values.end(),
                       [](float value) { return !std::isfinite(value); });
}

/// Says on stderr when the logits hold NaN or infinity, which the top-k
/// lists would show as plain numbers, and whether the input already did
/// (a .npy may hold them; the model then passes them on, as ONNX Runtime
/// and OpenVINO do).
static void warnNonFinite(const std::vector<float> &input,
                          const std::vector<float> &logits) {
  size_t badLogits = countNonFinite(logits);
  if (badLogits == 0)
    return;
  size_t badInputs = countNonFinite(input);
  std::string cause =
      badInputs == 0
          ? "the input is finite"
          : "the input holds " + std::to_string(badInputs) + " of them";
  std::fprintf(stderr,
               "vit-run: warning: %zu of %zu logits are NaN or infinite "
               "(%s)\n",
               badLogits, logits.size(), cause.c_str());
}

/// Prints the `k` largest logits of each row of `logits` [images, classes],
/// with names when there is a label per class, and each image headed by its
/// file when `imageNames` has one per image.
static void printTopK(const std::vector<float> &logits, int64_t images,
                      uint64_t k, const std::vector<std::string_view> &labels,
                      const std::vector<std::string> &imageNames) {
  int64_t classes = logits.size() / images;
  k = std::min<uint64_t>(k, classes);
  std::vector<int64_t> order(classes);
  for (int64_t image = 0; image < images; ++image) {
    const float *row = logits.data() + image * classes;
    // NaN sorts last so the comparison stays a strict weak order.
    auto key = [&](int64_t c) {
      return std::isnan(row[c]) ? -INFINITY : row[c];
    };
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int64_t a, int64_t b) {
                        return key(a) > key(b) || (key(a) == key(b) && a < b);
                      });
    size_t labelWidth = 0;
    for (uint64_t rank = 0; rank < k && !labels.empty(); ++rank)
      labelWidth = std::max(labelWidth, labels[order[rank]].size());

    if (imageNames.size() != static_cast<size_t>(images))
      std::printf("image %lld:\n", static_cast<long long>(image));
    else
      std::printf("image %lld (%s):\n", static_cast<long long>(image),
                  imageNames[image].c_str());
    for (uint64_t rank = 0; rank < k; ++rank) {
      int64_t c = order[rank];
      std::printf("  #%-*llu  %*lld", digitCount(k),
                  static_cast<unsigned long long>(rank + 1),
                  digitCount(classes - 1), static_cast<long long>(c));
      if (!labels.empty())
        std::printf(" %-*.*s", static_cast<int>(labelWidth),
                    static_cast<int>(labels[c].size()), labels[c].data());
      std::printf("  %.4f\n", row[c]);
    }
  }
}

int main(int argc, char **argv) {
  Options options;
  std::string error;
  switch (parseArgs(argc, argv, options, error)) {
  case ParseResult::Exit:
    return 0;
  case ParseResult::Error:
    return fail(error);
  case ParseResult::Run:
    break;
  }

  std::string labelFile;
  std::string_view labelText(reinterpret_cast<const char *>(kImageNetLabels),
                             sizeof(kImageNetLabels));
  if (options.labels) {
    if (!readFile(*options.labels, labelFile, error))
      return fail(error);
    labelText = labelFile;
  }

  vitrt_options runtimeOptions;
  vitrt_options_init(&runtimeOptions);
  runtimeOptions.num_threads = static_cast<int>(options.threads);
  runtimeOptions.device = static_cast<int>(options.device);
  vitrt_session *session = nullptr;
  if (vitrt_session_create_from_file(options.model.c_str(), &runtimeOptions,
                                     &session) != VITRT_OK)
    return failRuntime();
  std::unique_ptr<vitrt_session, void (*)(vitrt_session *)> owner(
      session, vitrt_session_destroy);

  size_t inputCount = vitrt_session_input_count(session);
  size_t outputCount = vitrt_session_output_count(session);
  if (inputCount != 1 || outputCount == 0)
    return fail(options.model + ": vit-run runs models with one input and " +
                "at least one output, not " + std::to_string(inputCount) +
                " and " + std::to_string(outputCount));

  InputSpec spec;
  vitrt_tensor_info info;
  if (vitrt_session_input_info(session, 0, &info) != VITRT_OK)
    return failRuntime();
  spec.dims = shapeOf(info);
  std::string inputName = info.name;
  std::string layout = vitrt_session_input_layout(session);
  // The runtime refuses any other layout; none means no image input.
  spec.image = !layout.empty();
  spec.channelsLast = layout == "nhwc";
  spec.mean.resize(vitrt_session_pixel_mean(session, nullptr, 0));
  vitrt_session_pixel_mean(session, spec.mean.data(), spec.mean.size());
  spec.std.resize(vitrt_session_pixel_std(session, nullptr, 0));
  vitrt_session_pixel_std(session, spec.std.data(), spec.std.size());

  std::vector<float> input;
  if (!allocate(spec.dims, "input", inputName, input, error))
    return fail(error);
  std::string inputSource;
  if (options.inputs.size() == 1) {
    std::string detail;
    if (!loadInput(options.inputs.front(), spec, input, detail, error))
      return fail(error);
    inputSource = " from " + options.inputs.front();
    if (!detail.empty())
      inputSource += " (" + detail + ")";
  } else if (!options.inputs.empty()) {
    std::string detail;
    if (!loadImages(options.inputs, spec, input, detail, error))
      return fail(error);
    inputSource = " from " + std::to_string(options.inputs.size()) +
                  " pictures (" + detail + ")";
  } else {
    uint64_t seed = options.seed.value_or(0);
    fillRandom(seed, input);
    inputSource = ", random uniform [-1, 1) with seed " + std::to_string(seed);
  }

  // Every output needs a buffer; the first one holds the logits.
  std::vector<std::vector<float>> outputData;
  std::vector<float *> outputs;
  std::string logitName;
  Shape logitShape;
  for (size_t i = 0; i < outputCount; ++i) {
    if (vitrt_session_output_info(session, i, &info) != VITRT_OK)
      return failRuntime();
    if (i == 0) {
      logitName = info.name;
      logitShape = shapeOf(info);
    }
    if (!allocate(shapeOf(info), "output", info.name, outputData.emplace_back(),
                  error))
      return fail(error);
  }
  for (std::vector<float> &data : outputData)
    outputs.push_back(data.data());

  std::string kind = vitrt_session_target_kind(session);
  std::printf("model:   %s (%s)\n",
              vitc::escapedText(vitrt_session_model_name(session)).c_str(),
              options.model.c_str());
  std::printf("target:  %s %s, %s, %s\n", kind.c_str(),
              vitrt_session_target_name(session),
              vitrt_session_precision(session),
              describeWorkers(kind, options).c_str());
  std::printf("input:   %s%s\n", spec.describe().c_str(), inputSource.c_str());
  std::printf("output:  %s %s\n", logitName.c_str(),
              formatShape(logitShape).c_str());
  // The header comes before a runtime error when both streams share a log.
  if (options.saveInput &&
      !save(*options.saveInput, inputName, spec.dims, input, error))
    return fail(error);
  std::fflush(stdout);

  const float *inputs[] = {input.data()};
  if (vitrt_session_run(session, inputs, outputs.data()) != VITRT_OK)
    return failRuntime();

  int64_t images = logitShape.empty() ? 1 : logitShape.front();
  int64_t classes = numElements(logitShape) / images;
  std::vector<std::string_view> labels = splitLines(labelText);
  // The names the artifact embeds (vitc --labels), unless --labels gave
  // others; escaped, since they come from the file.
  std::vector<std::string> embedded;
  size_t embeddedCount = vitrt_session_label_count(session);
  if (!options.labels && embeddedCount > 0) {
    for (size_t c = 0; c < embeddedCount; ++c)
      embedded.push_back(vitc::escapedText(vitrt_session_label(session, c)));
    labels.assign(embedded.begin(), embedded.end());
  }
  if (labels.size() != static_cast<size_t>(classes)) {
    if (options.labels)
      std::fprintf(stderr,
                   "vit-run: warning: %s: %zu labels for %lld classes; "
                   "printing class indices\n",
                   options.labels->c_str(), labels.size(),
                   static_cast<long long>(classes));
    labels.clear();
  }
  // With a picture per image, each image's result names its file.
  std::vector<std::string> imageNames;
  if (options.inputs.size() > 1)
    imageNames = options.inputs;
  printTopK(outputData.front(), images, options.topk, labels, imageNames);
  warnNonFinite(input, outputData.front());

  if (options.output &&
      !save(*options.output, logitName, logitShape, outputData.front(), error))
    return fail(error);

  if (!options.benchmark)
    return 0;
  BenchmarkResult result;
  if (!runBenchmark(
          session, inputs, outputs.data(), options.warmup.value_or(10),
          options.iterations.value_or(100), images, options.profile, result))
    return failRuntime();
  printBenchmark(result);
  BenchmarkContext context{options.model, vitrt_session_model_name(session),
                           kind + " " + vitrt_session_target_name(session),
                           vitrt_session_precision(session),
                           describeWorkers(kind, options)};
  if (options.benchmarkJson &&
      !writeBenchmarkJson(*options.benchmarkJson, context, result, error))
    return fail(error);
  return 0;
}
