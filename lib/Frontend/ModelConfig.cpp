//===- ModelConfig.cpp - ViT model hyper-parameters and presets -----------===//

#include "vitc/Frontend/ModelConfig.h"
#include "vitc/Support/EscapedText.h"
#include "vitc/Support/InputFiles.h"
#include "vitc/Support/JsonInteger.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace vitc {

namespace {

ModelConfig makeTimmConfig(const char *name, int64_t width, int64_t depth,
                           int64_t heads, int64_t patch) {
  ModelConfig config;
  config.name = name;
  config.hiddenSize = width;
  config.depth = depth;
  config.numHeads = heads;
  config.mlpDim = 4 * width;
  config.patchSize = patch;
  return config;
}

/// The Keras/TensorFlow construction of ViT-B/16: channels-last input, HWIO
/// convolution kernel and no bias on the query/key/value projections.
ModelConfig makeKerasB16() {
  ModelConfig config = makeTimmConfig("vit-b16-keras", 768, 12, 12, 16);
  config.inputLayout = InputLayout::NHWC;
  config.kernelLayout = KernelLayout::HWIO;
  config.qkvBias = false;
  config.pixelMean = {0.5, 0.5, 0.5};
  config.pixelStd = {0.5, 0.5, 0.5};
  return config;
}

const std::vector<ModelConfig> &presets() {
  static const std::vector<ModelConfig> all = {
      makeTimmConfig("vit-ti16", 192, 12, 3, 16),
      makeTimmConfig("vit-s16", 384, 12, 6, 16),
      makeTimmConfig("vit-b16", 768, 12, 12, 16),
      makeKerasB16(),
      makeTimmConfig("vit-l16", 1024, 24, 16, 16),
      makeTimmConfig("vit-b32", 768, 12, 12, 32),
  };
  return all;
}

} // namespace

double ModelConfig::minimumRunBytes(int64_t batch) const {
  double images = double(batch);
  double input =
      images * double(channels) * double(imageSize) * double(imageSize);
  double width = double(hiddenSize);
  double live = images * double(numTokens()) *
                (width + std::max(3.0 * width, double(mlpDim)));
  return 4.0 * (input + live);
}

double ModelConfig::parameterBytes() const {
  double width = double(hiddenSize), mlp = double(mlpDim);
  double patchEmbed =
      width * double(channels) * double(patchSize) * double(patchSize) + width;
  double embeddings = width + double(numTokens()) * width;
  double block = 2 * width                                       // norm1
                 + 3 * width * width + (qkvBias ? 3 * width : 0) // qkv
                 + width * width + width                         // proj
                 + 2 * width                                     // norm2
                 + 2 * width * mlp + mlp + width;                // fc1, fc2
  double head = 2 * width + double(numClasses) * (width + 1);    // norm, head
  return 4.0 * (patchEmbed + embeddings + double(depth) * block + head);
}

/// `value` as %g writes it: 1e-50, 0.5.
static std::string formatNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

llvm::Error ModelConfig::validate() const {
  for (auto [field, value] :
       {std::pair<const char *, int64_t>{"image_size", imageSize},
        {"patch_size", patchSize},
        {"channels", channels},
        {"hidden_size", hiddenSize},
        {"depth", depth},
        {"num_heads", numHeads},
        {"mlp_dim", mlpDim},
        {"num_classes", numClasses}})
    if (value <= 0)
      return llvm::createStringError(std::string(field) +
                                     " must be positive, got " +
                                     std::to_string(value));
  if (imageSize % patchSize != 0)
    return llvm::createStringError("image_size " + std::to_string(imageSize) +
                                   " is not a multiple of patch_size " +
                                   std::to_string(patchSize));
  // The patch count, the square of patchesPerSide(), is an int64_t
  // everywhere: 2^31 per side leaves room for the class token and more.
  constexpr int64_t kMaxPatchesPerSide = int64_t(1) << 31;
  if (patchesPerSide() > kMaxPatchesPerSide)
    return llvm::createStringError(
        "image_size / patch_size is " + std::to_string(patchesPerSide()) +
        " patches per side, more than the " +
        std::to_string(kMaxPatchesPerSide) + " supported");
  if (hiddenSize % numHeads != 0)
    return llvm::createStringError("num_heads " + std::to_string(numHeads) +
                                   " does not divide hidden_size " +
                                   std::to_string(hiddenSize));
  // The kernels compute in fp32, and the artifact stores the pixel mean and
  // std in fp32 for the runtime, which divides by the std: each value must
  // stay a finite number there (1e39 would become infinity, 1e-50 zero, and
  // a std below fp32's smallest normal number an infinite reciprocal).
  auto fp32 = [](double value) { return double(float(value)); };
  if (!(fp32(layerNormEps) > 0.0) || !std::isfinite(fp32(layerNormEps)))
    return llvm::createStringError(
        "layer_norm_eps must be a positive number that fp32 holds (1.4e-45 "
        "to 3.4e38), got " +
        formatNumber(layerNormEps));
  if (int64_t(pixelMean.size()) != channels ||
      int64_t(pixelStd.size()) != channels)
    return llvm::createStringError(
        "pixel_mean and pixel_std need one value per channel (" +
        std::to_string(channels) + "), got " +
        std::to_string(pixelMean.size()) + " and " +
        std::to_string(pixelStd.size()) +
        ": pass --pixel-mean and --pixel-std once each, comma-separated");
  for (double std : pixelStd)
    if (!(fp32(std) >= std::numeric_limits<float>::min()) ||
        !std::isfinite(fp32(std)))
      return llvm::createStringError(
          "pixel_std values must be positive normal fp32 numbers (1.2e-38 "
          "to 3.4e38), got " +
          formatNumber(std));
  for (double mean : pixelMean)
    if (!std::isfinite(fp32(mean)))
      return llvm::createStringError(
          "pixel_mean values must be finite in fp32 (at most 3.4e38 in "
          "magnitude), got " +
          formatNumber(mean));
  // The artifact stores the name and the class names as C strings: a NUL
  // byte would cut them short. (Other control characters are kept, and
  // escaped where they are printed.)
  if (llvm::is_contained(name, '\0'))
    return llvm::createStringError("the model name \"" + escapedText(name) +
                                   "\" has a NUL byte");
  for (auto [index, label] : llvm::enumerate(labels))
    if (llvm::is_contained(label, '\0'))
      return llvm::createStringError("the name of class " +
                                     std::to_string(index) + ", \"" +
                                     escapedText(label) + "\", has a NUL byte");
  if (!labels.empty() && int64_t(labels.size()) != numClasses)
    return llvm::createStringError(std::to_string(labels.size()) +
                                   " labels for " + std::to_string(numClasses) +
                                   " classes (num_classes)");
  return llvm::Error::success();
}

const std::vector<std::string> &presetNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> result;
    for (const ModelConfig &config : presets())
      result.push_back(config.name);
    return result;
  }();
  return names;
}

std::optional<ModelConfig> lookupPreset(const std::string &name) {
  for (const ModelConfig &config : presets())
    if (config.name == name)
      return config;
  return std::nullopt;
}

const char *toString(InputLayout layout) {
  return layout == InputLayout::NCHW ? "nchw" : "nhwc";
}
const char *toString(KernelLayout layout) {
  return layout == KernelLayout::OIHW ? "oihw" : "hwio";
}
const char *toString(GeluApproximation gelu) {
  return gelu == GeluApproximation::Exact ? "exact" : "tanh";
}

std::optional<InputLayout> parseInputLayout(const std::string &text) {
  if (text == "nchw")
    return InputLayout::NCHW;
  if (text == "nhwc")
    return InputLayout::NHWC;
  return std::nullopt;
}
std::optional<KernelLayout> parseKernelLayout(const std::string &text) {
  if (text == "oihw")
    return KernelLayout::OIHW;
  if (text == "hwio")
    return KernelLayout::HWIO;
  return std::nullopt;
}
std::optional<GeluApproximation> parseGelu(const std::string &text) {
  if (text == "exact")
    return GeluApproximation::Exact;
  if (text == "tanh")
    return GeluApproximation::Tanh;
  return std::nullopt;
}

namespace {

llvm::Error mustBe(llvm::StringRef key, const char *expected) {
  return llvm::createStringError("config key '" + escapedText(key) +
                                 "' must be " + expected);
}

// Each readValue stores one JSON value into a config field, or explains why
// it cannot; the field is untouched on failure.

llvm::Error readValue(llvm::StringRef key, const llvm::json::Value &value,
                      int64_t &field) {
  std::optional<int64_t> number = jsonInteger(value);
  if (!number)
    return mustBe(key, "an integer");
  field = *number;
  return llvm::Error::success();
}

llvm::Error readValue(llvm::StringRef key, const llvm::json::Value &value,
                      double &field) {
  std::optional<double> number = value.getAsNumber();
  if (!number)
    return mustBe(key, "a number");
  field = *number;
  return llvm::Error::success();
}

llvm::Error readValue(llvm::StringRef key, const llvm::json::Value &value,
                      bool &field) {
  std::optional<bool> flag = value.getAsBoolean();
  if (!flag)
    return mustBe(key, "true or false");
  field = *flag;
  return llvm::Error::success();
}

llvm::Error readValue(llvm::StringRef key, const llvm::json::Value &value,
                      std::string &field) {
  std::optional<llvm::StringRef> text = value.getAsString();
  if (!text)
    return mustBe(key, "a string");
  field = text->str();
  return llvm::Error::success();
}

llvm::Error readValue(llvm::StringRef key, const llvm::json::Value &value,
                      std::vector<double> &field) {
  const llvm::json::Array *array = value.getAsArray();
  if (!array)
    return mustBe(key, "an array of numbers");
  std::vector<double> numbers;
  for (const llvm::json::Value &element : *array) {
    std::optional<double> number = element.getAsNumber();
    if (!number)
      return mustBe(key, "an array of numbers");
    numbers.push_back(*number);
  }
  field = std::move(numbers);
  return llvm::Error::success();
}

llvm::Error readValue(llvm::StringRef key, const llvm::json::Value &value,
                      std::vector<std::string> &field) {
  const llvm::json::Array *array = value.getAsArray();
  if (!array)
    return mustBe(key, "an array of strings");
  std::vector<std::string> texts;
  for (const llvm::json::Value &element : *array) {
    std::optional<llvm::StringRef> text = element.getAsString();
    if (!text)
      return mustBe(key, "an array of strings");
    texts.push_back(text->str());
  }
  field = std::move(texts);
  return llvm::Error::success();
}

template <typename Enum>
llvm::Error readValue(llvm::StringRef key, const llvm::json::Value &value,
                      Enum &field,
                      std::optional<Enum> (*parse)(const std::string &),
                      const char *choices) {
  std::string text;
  if (llvm::Error error = readValue(key, value, text))
    return error;
  std::optional<Enum> parsed = parse(text);
  if (!parsed)
    return mustBe(key, choices);
  field = *parsed;
  return llvm::Error::success();
}

/// Stores `value` into the field of `config` that `key` names.
llvm::Error applyOverride(ModelConfig &config, llvm::StringRef key,
                          const llvm::json::Value &value) {
  if (key == "name")
    return readValue(key, value, config.name);
  if (key == "image_size")
    return readValue(key, value, config.imageSize);
  if (key == "patch_size")
    return readValue(key, value, config.patchSize);
  if (key == "channels")
    return readValue(key, value, config.channels);
  if (key == "hidden_size")
    return readValue(key, value, config.hiddenSize);
  if (key == "depth")
    return readValue(key, value, config.depth);
  if (key == "num_heads")
    return readValue(key, value, config.numHeads);
  if (key == "mlp_dim")
    return readValue(key, value, config.mlpDim);
  if (key == "num_classes")
    return readValue(key, value, config.numClasses);
  if (key == "qkv_bias")
    return readValue(key, value, config.qkvBias);
  if (key == "layer_norm_eps")
    return readValue(key, value, config.layerNormEps);
  if (key == "input_layout")
    return readValue(key, value, config.inputLayout, parseInputLayout,
                     "\"nchw\" or \"nhwc\"");
  if (key == "kernel_layout")
    return readValue(key, value, config.kernelLayout, parseKernelLayout,
                     "\"oihw\" or \"hwio\"");
  if (key == "pixel_mean")
    return readValue(key, value, config.pixelMean);
  if (key == "pixel_std")
    return readValue(key, value, config.pixelStd);
  if (key == "gelu")
    return readValue(key, value, config.gelu, parseGelu,
                     "\"exact\" or \"tanh\"");
  if (key == "labels")
    return readValue(key, value, config.labels);
  // Keys come from the file: escaped, so that the error stays one line.
  return llvm::createStringError("unknown config key '" + escapedText(key) +
                                 "'");
}

} // namespace

std::string toJson(const ModelConfig &config) {
  llvm::json::Object object{
      {"name", config.name},
      {"image_size", config.imageSize},
      {"patch_size", config.patchSize},
      {"channels", config.channels},
      {"hidden_size", config.hiddenSize},
      {"depth", config.depth},
      {"num_heads", config.numHeads},
      {"mlp_dim", config.mlpDim},
      {"num_classes", config.numClasses},
      {"qkv_bias", config.qkvBias},
      {"layer_norm_eps", config.layerNormEps},
      {"input_layout", toString(config.inputLayout)},
      {"kernel_layout", toString(config.kernelLayout)},
      {"gelu", toString(config.gelu)},
      {"pixel_mean", llvm::json::Array(config.pixelMean)},
      {"pixel_std", llvm::json::Array(config.pixelStd)},
  };
  // Most models name no classes; the key appears only for those that do.
  if (!config.labels.empty())
    object["labels"] = llvm::json::Array(config.labels);
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(object));
  return text;
}

llvm::Error applyJsonOverrides(ModelConfig &config,
                               const std::string &jsonText) {
  llvm::Expected<llvm::json::Value> parsed = parseJson(jsonText);
  if (!parsed)
    return llvm::createStringError("invalid JSON: " +
                                   llvm::toString(parsed.takeError()));
  const llvm::json::Object *object = parsed->getAsObject();
  if (!object)
    return llvm::createStringError("the config must be a JSON object");
  for (const auto &[key, value] : *object)
    if (llvm::Error error = applyOverride(config, key, value))
      return error;
  return llvm::Error::success();
}

} // namespace vitc
