//===- ModelConfig.cpp - ViT model hyper-parameters and presets -----------===//

#include "vitc/Frontend/ModelConfig.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cmath>

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

std::string ModelConfig::validate() const {
  auto positive = [](const char *field, int64_t value) -> std::string {
    if (value > 0)
      return "";
    return std::string(field) + " must be positive, got " +
           std::to_string(value);
  };
  for (auto [field, value] :
       {std::pair<const char *, int64_t>{"image_size", imageSize},
        {"patch_size", patchSize},
        {"channels", channels},
        {"hidden_size", hiddenSize},
        {"depth", depth},
        {"num_heads", numHeads},
        {"mlp_dim", mlpDim},
        {"num_classes", numClasses}}) {
    std::string error = positive(field, value);
    if (!error.empty())
      return error;
  }
  if (imageSize % patchSize != 0)
    return "image_size " + std::to_string(imageSize) +
           " is not a multiple of patch_size " + std::to_string(patchSize);
  if (hiddenSize % numHeads != 0)
    return "num_heads " + std::to_string(numHeads) +
           " does not divide hidden_size " + std::to_string(hiddenSize);
  if (!(layerNormEps > 0.0) || !std::isfinite(layerNormEps))
    return "layer_norm_eps must be a positive finite number";
  if (int64_t(pixelMean.size()) != channels ||
      int64_t(pixelStd.size()) != channels)
    return "pixel_mean and pixel_std need one value per channel (" +
           std::to_string(channels) + ")";
  for (double std : pixelStd)
    if (!(std > 0.0))
      return "pixel_std values must be positive";
  return "";
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

/// Reads one JSON value into a config field, or explains why it cannot.
class JsonFieldReader {
public:
  explicit JsonFieldReader(std::string &error) : error(error) {}

  bool read(llvm::StringRef key, const llvm::json::Value &value,
            int64_t &field) {
    if (std::optional<int64_t> number = value.getAsInteger()) {
      field = *number;
      return true;
    }
    return fail(key, "an integer");
  }
  bool read(llvm::StringRef key, const llvm::json::Value &value,
            double &field) {
    if (std::optional<double> number = value.getAsNumber()) {
      field = *number;
      return true;
    }
    return fail(key, "a number");
  }
  bool read(llvm::StringRef key, const llvm::json::Value &value, bool &field) {
    if (std::optional<bool> flag = value.getAsBoolean()) {
      field = *flag;
      return true;
    }
    return fail(key, "true or false");
  }
  bool read(llvm::StringRef key, const llvm::json::Value &value,
            std::string &field) {
    if (std::optional<llvm::StringRef> text = value.getAsString()) {
      field = text->str();
      return true;
    }
    return fail(key, "a string");
  }
  bool read(llvm::StringRef key, const llvm::json::Value &value,
            std::vector<double> &field) {
    const llvm::json::Array *array = value.getAsArray();
    if (!array)
      return fail(key, "an array of numbers");
    std::vector<double> numbers;
    for (const llvm::json::Value &element : *array) {
      std::optional<double> number = element.getAsNumber();
      if (!number)
        return fail(key, "an array of numbers");
      numbers.push_back(*number);
    }
    field = std::move(numbers);
    return true;
  }
  template <typename Enum>
  bool read(llvm::StringRef key, const llvm::json::Value &value, Enum &field,
            std::optional<Enum> (*parse)(const std::string &),
            const char *choices) {
    std::string text;
    if (!read(key, value, text))
      return false;
    if (std::optional<Enum> parsed = parse(text)) {
      field = *parsed;
      return true;
    }
    return fail(key, choices);
  }

private:
  bool fail(llvm::StringRef key, const char *expected) {
    error = "config key '" + key.str() + "' must be " + expected;
    return false;
  }

  std::string &error;
};

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
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(object));
  return text;
}

bool applyJsonOverrides(ModelConfig &config, const std::string &jsonText,
                        std::string &error) {
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(jsonText);
  if (!parsed) {
    error = "invalid JSON: " + llvm::toString(parsed.takeError());
    return false;
  }
  const llvm::json::Object *object = parsed->getAsObject();
  if (!object) {
    error = "the config must be a JSON object";
    return false;
  }
  JsonFieldReader reader(error);
  for (const auto &[key, value] : *object) {
    llvm::StringRef name = key;
    bool ok;
    if (name == "name")
      ok = reader.read(name, value, config.name);
    else if (name == "image_size")
      ok = reader.read(name, value, config.imageSize);
    else if (name == "patch_size")
      ok = reader.read(name, value, config.patchSize);
    else if (name == "channels")
      ok = reader.read(name, value, config.channels);
    else if (name == "hidden_size")
      ok = reader.read(name, value, config.hiddenSize);
    else if (name == "depth")
      ok = reader.read(name, value, config.depth);
    else if (name == "num_heads")
      ok = reader.read(name, value, config.numHeads);
    else if (name == "mlp_dim")
      ok = reader.read(name, value, config.mlpDim);
    else if (name == "num_classes")
      ok = reader.read(name, value, config.numClasses);
    else if (name == "qkv_bias")
      ok = reader.read(name, value, config.qkvBias);
    else if (name == "layer_norm_eps")
      ok = reader.read(name, value, config.layerNormEps);
    else if (name == "input_layout")
      ok = reader.read(name, value, config.inputLayout, parseInputLayout,
                       "\"nchw\" or \"nhwc\"");
    else if (name == "kernel_layout")
      ok = reader.read(name, value, config.kernelLayout, parseKernelLayout,
                       "\"oihw\" or \"hwio\"");
    else if (name == "pixel_mean")
      ok = reader.read(name, value, config.pixelMean);
    else if (name == "pixel_std")
      ok = reader.read(name, value, config.pixelStd);
    else if (name == "gelu")
      ok = reader.read(name, value, config.gelu, parseGelu,
                       "\"exact\" or \"tanh\"");
    else {
      error = "unknown config key '" + name.str() + "'";
      return false;
    }
    if (!ok)
      return false;
  }
  return true;
}

} // namespace vitc
