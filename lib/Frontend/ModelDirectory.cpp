//===- ModelDirectory.cpp - Model folders of Hugging Face, timm, vitc -----===//

#include "vitc/Frontend/ModelDirectory.h"

#include "vitc/Support/EscapedText.h"
#include "vitc/Support/InputFiles.h"
#include "vitc/Support/JsonInteger.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
using llvm::Twine;
using llvm::json::Object;

namespace vitc {

namespace {

Error failure(const Twine &message) {
  return llvm::createStringError(message.str());
}

/// Reads the fields of one JSON object of `file` into a config. A missing
/// or mistyped field is recorded, as a message naming the file and the
/// key, and the reads after it do nothing: the caller reads every field,
/// then asks for the first problem.
class Fields {
public:
  Fields(const Object &object, std::string file)
      : object(object), file(std::move(file)) {}

  bool has(StringRef key) const { return object.get(key) != nullptr; }
  const Object *getObject(StringRef key) const { return object.getObject(key); }

  void read(StringRef key, int64_t &field,
            std::optional<int64_t> fallback = {}) {
    if (const llvm::json::Value *value = find(key, fallback.has_value()))
      set(jsonInteger(*value), field, key, "an integer");
    else if (fallback)
      field = *fallback;
  }
  void read(StringRef key, double &field, std::optional<double> fallback) {
    if (const llvm::json::Value *value = find(key, fallback.has_value()))
      set(value->getAsNumber(), field, key, "a number");
    else if (fallback)
      field = *fallback;
  }
  void read(StringRef key, bool &field, bool fallback) {
    if (const llvm::json::Value *value = find(key, true))
      set(value->getAsBoolean(), field, key, "true or false");
    else
      field = fallback;
  }
  void read(StringRef key, std::string &field,
            std::optional<StringRef> fallback = {}) {
    if (const llvm::json::Value *value = find(key, fallback.has_value())) {
      std::optional<StringRef> text = value->getAsString();
      set(text ? std::optional<std::string>(text->str()) : std::nullopt, field,
          key, "a string");
    } else if (fallback) {
      field = fallback->str();
    }
  }
  /// Arrays keep `field` as it is when the key is absent and `optional`.
  void read(StringRef key, std::vector<double> &field, bool optional) {
    if (const llvm::json::Value *value = find(key, optional))
      set(elements<double>(*value,
                           [](const llvm::json::Value &element) {
                             return element.getAsNumber();
                           }),
          field, key, "an array of numbers");
  }
  void read(StringRef key, std::vector<std::string> &field, bool optional) {
    if (const llvm::json::Value *value = find(key, optional))
      set(elements<std::string>(
              *value,
              [](const llvm::json::Value &element) {
                std::optional<StringRef> text = element.getAsString();
                return text ? std::optional<std::string>(text->str())
                            : std::nullopt;
              }),
          field, key, "an array of strings");
  }

  /// Records a problem of the model the fields describe.
  void fail(const Twine &message) {
    if (problem.empty())
      problem = file + ": " + message.str();
  }
  /// Records a problem another reader found, whose message names its file.
  void fail(Error error) {
    if (!error)
      return;
    std::string message = llvm::toString(std::move(error));
    if (problem.empty())
      problem = std::move(message);
  }
  bool failed() const { return !problem.empty(); }
  Error takeError() {
    return failed() ? failure(std::exchange(problem, "")) : Error::success();
  }

private:
  /// The value of `key`, or nullptr: absent (a problem unless `optional`),
  /// or an earlier problem stops the reading.
  const llvm::json::Value *find(StringRef key, bool optional) {
    if (failed())
      return nullptr;
    const llvm::json::Value *value = object.get(key);
    if (!value && !optional)
      fail("no \"" + key + "\"");
    return value;
  }

  template <typename T, typename U>
  void set(std::optional<U> value, T &field, StringRef key,
           const char *expected) {
    if (value)
      field = std::move(*value);
    else
      fail("\"" + key + "\" must be " + expected);
  }

  template <typename T, typename Convert>
  static std::optional<std::vector<T>> elements(const llvm::json::Value &value,
                                                Convert convert) {
    const llvm::json::Array *array = value.getAsArray();
    if (!array)
      return std::nullopt;
    std::vector<T> result;
    for (const llvm::json::Value &element : *array) {
      std::optional<T> converted = convert(element);
      if (!converted)
        return std::nullopt;
      result.push_back(std::move(*converted));
    }
    return result;
  }

  const Object &object;
  std::string file;
  std::string problem;
};

Expected<llvm::json::Value> readJson(const std::string &path) {
  Expected<std::unique_ptr<llvm::MemoryBuffer>> text = readInputFile(path);
  if (!text)
    return text.takeError();
  Expected<llvm::json::Value> parsed = parseJson((*text)->getBuffer());
  if (!parsed)
    return failure(path +
                   ": invalid JSON: " + llvm::toString(parsed.takeError()));
  if (!parsed->getAsObject())
    return failure(path + ": not a JSON object");
  return parsed;
}

/// Hugging Face `hidden_act` names: "gelu" is the exact form, the others
/// the tanh approximation (gelu_fast computes the same formula).
std::optional<GeluApproximation> parseHfActivation(StringRef name) {
  return llvm::StringSwitch<std::optional<GeluApproximation>>(name)
      .Case("gelu", GeluApproximation::Exact)
      .Cases({"gelu_new", "gelu_pytorch_tanh", "gelu_fast"},
             GeluApproximation::Tanh)
      .Default(std::nullopt);
}

/// Reads class names keyed by their index, {"0": "tench", ...}, into
/// `labels`, which must come out with no gap. Returns false after
/// recording the problem in `fields`.
bool readIndexedNames(const Object &names, StringRef key, Fields &fields,
                      std::vector<std::string> &labels) {
  std::map<int64_t, std::string> byIndex;
  for (const auto &[index, value] : names) {
    int64_t number = -1;
    std::optional<StringRef> name = value.getAsString();
    if (StringRef(index).getAsInteger(10, number) || number < 0 || !name) {
      fields.fail(key + " maps class indices to names; '" +
                  escapedText(StringRef(index)) + "' is not one");
      return false;
    }
    // "1" and "01" are two JSON keys for one class.
    if (!byIndex.emplace(number, name->str()).second) {
      fields.fail(key + " names class " + Twine(number) + " twice");
      return false;
    }
  }
  labels.clear();
  for (auto &[number, name] : byIndex) {
    if (number != int64_t(labels.size())) {
      fields.fail(key + " has no class " + Twine(labels.size()));
      return false;
    }
    labels.push_back(std::move(name));
  }
  return true;
}

/// A Hugging Face ViTForImageClassification folder: config.json (ViTConfig,
/// with its defaults where a field is absent) and, if there is one,
/// preprocessor_config.json (ViTImageProcessor: mean and std, 0.5 when
/// absent).
void readHuggingFace(Fields &fields, StringRef dir, ModelConfig &config) {
  std::string type = "vit";
  std::vector<std::string> architectures;
  std::string activation;
  fields.read("model_type", type, StringRef("vit"));
  fields.read("architectures", architectures, /*optional=*/true);
  fields.read("hidden_size", config.hiddenSize);
  fields.read("num_hidden_layers", config.depth);
  fields.read("num_attention_heads", config.numHeads);
  fields.read("intermediate_size", config.mlpDim);
  fields.read("image_size", config.imageSize, 224);
  fields.read("patch_size", config.patchSize, 16);
  fields.read("num_channels", config.channels, 3);
  fields.read("qkv_bias", config.qkvBias, true);
  fields.read("layer_norm_eps", config.layerNormEps, 1e-12);
  fields.read("hidden_act", activation, StringRef("gelu"));
  if (fields.failed())
    return;
  if (type != "vit")
    return fields.fail("model_type '" + escapedText(type) +
                       "' is not \"vit\"; vitc compiles ViTs");
  if (!architectures.empty() &&
      !llvm::is_contained(architectures, "ViTForImageClassification"))
    return fields.fail("architectures has no ViTForImageClassification: "
                       "vitc compiles ViTs with their classifier head");
  std::optional<GeluApproximation> gelu = parseHfActivation(activation);
  if (!gelu)
    return fields.fail("hidden_act '" + escapedText(activation) +
                       "' is not a GELU vitc knows (gelu, gelu_new, "
                       "gelu_pytorch_tanh, gelu_fast)");
  config.gelu = *gelu;
  config.inputLayout = InputLayout::NCHW;
  config.kernelLayout = KernelLayout::OIHW;

  // id2label, {"0": "tench", ...}: its size is the class count.
  const Object *id2label = fields.getObject("id2label");
  if (!id2label)
    return fields.fail("no \"id2label\" object: the number of classes is "
                       "unknown");
  if (!readIndexedNames(*id2label, "id2label", fields, config.labels))
    return;
  config.numClasses = config.labels.size();
  bool placeholders = true;
  for (auto [index, name] : llvm::enumerate(config.labels))
    placeholders &= name == "LABEL_" + std::to_string(index);
  // transformers names the classes LABEL_<i> when nobody named them.
  if (placeholders)
    config.labels.clear();

  config.pixelMean = config.pixelStd = std::vector<double>(3, 0.5);
  llvm::SmallString<256> preprocessor(dir);
  llvm::sys::path::append(preprocessor, "preprocessor_config.json");
  if (!llvm::sys::fs::exists(preprocessor))
    return;
  Expected<llvm::json::Value> json = readJson(preprocessor.str().str());
  if (!json)
    return fields.fail(json.takeError());
  Fields processor(*json->getAsObject(), preprocessor.str().str());
  bool rescale, normalize;
  double rescaleFactor;
  processor.read("do_rescale", rescale, true);
  processor.read("rescale_factor", rescaleFactor, 1.0 / 255);
  processor.read("do_normalize", normalize, true);
  processor.read("image_mean", config.pixelMean, /*optional=*/true);
  processor.read("image_std", config.pixelStd, /*optional=*/true);
  if (!normalize) {
    // One value per channel; a channel count out of any sane range is left
    // for the config's validation to report.
    size_t channels = std::clamp<int64_t>(config.channels, 0, 1 << 16);
    config.pixelMean.assign(channels, 0.0);
    config.pixelStd.assign(channels, 1.0);
  }
  // The processor feeds the model (pixel * rescale_factor - mean) / std for
  // pixels in [0, 255]; vit-run normalizes pixels in [0, 1], so the same
  // input comes from mean and std divided by 255 * rescale_factor.
  double scale = 255 * (rescale ? rescaleFactor : 1.0);
  if (!processor.failed() && !(scale > 0 && std::isfinite(scale)))
    processor.fail("rescale_factor must be a positive number");
  for (std::vector<double> *values : {&config.pixelMean, &config.pixelStd})
    for (double &value : *values)
      value /= scale;
  fields.fail(processor.takeError());
}

/// The shape of timm's ViT sizes: width, depth, heads, MLP width.
struct TimmSize {
  int64_t width, depth, heads, mlp;
};

/// A timm folder: config.json with "architecture" (vit_<size>_patch<P>_<S>),
/// "num_classes", "pretrained_cfg" (input_size, mean, std) and, if the
/// model names its classes, "label_names".
void readTimm(Fields &fields, const std::string &configPath,
              ModelConfig &config) {
  std::string architecture, pool = "token";
  int64_t features = -1;
  fields.read("architecture", architecture);
  fields.read("global_pool", pool, StringRef("token"));
  fields.read("num_classes", config.numClasses);
  fields.read("num_features", features, -1);
  // A list, or, where classes have no name, a dict by index.
  if (const Object *names = fields.getObject("label_names")) {
    if (!readIndexedNames(*names, "label_names", fields, config.labels))
      return;
  } else {
    fields.read("label_names", config.labels, /*optional=*/true);
  }
  if (fields.failed())
    return;
  // vit_base_patch16_224: the size, the patch and the image side.
  StringRef rest = architecture, size, patch, image;
  bool prefixed = rest.consume_front("vit_");
  std::tie(size, rest) = rest.split("_patch");
  std::tie(patch, image) = rest.split('_');
  std::optional<TimmSize> shape =
      llvm::StringSwitch<std::optional<TimmSize>>(size)
          .Case("tiny", TimmSize{192, 12, 3, 768})
          .Case("small", TimmSize{384, 12, 6, 1536})
          .Case("base", TimmSize{768, 12, 12, 3072})
          .Case("large", TimmSize{1024, 24, 16, 4096})
          .Case("huge", TimmSize{1280, 32, 16, 5120})
          .Default(std::nullopt);
  if (!prefixed || !shape || patch.getAsInteger(10, config.patchSize) ||
      image.getAsInteger(10, config.imageSize))
    return fields.fail("architecture '" + escapedText(architecture) +
                       "' is not a timm ViT vitc knows "
                       "(vit_{tiny,small,base,large,huge}_patch<P>_<S>)");
  if (pool != "token")
    return fields.fail("global_pool '" + escapedText(pool) +
                       "': vitc's head reads the class token (\"token\")");
  config.name = architecture;
  config.hiddenSize = shape->width;
  config.depth = shape->depth;
  config.numHeads = shape->heads;
  config.mlpDim = shape->mlp;
  config.channels = 3;
  config.qkvBias = true;
  config.layerNormEps = 1e-6;
  config.gelu = GeluApproximation::Exact;
  config.inputLayout = InputLayout::NCHW;
  config.kernelLayout = KernelLayout::OIHW;

  // timm records the arguments the model was created with beyond its
  // name's (timm.create_model(..., img_size=384, depth=6)).
  if (const Object *arguments = fields.getObject("model_args")) {
    Fields args(*arguments, configPath + ": model_args");
    double mlpRatio = double(config.mlpDim) / double(config.hiddenSize);
    for (const auto &[key, value] : *arguments) {
      StringRef name = StringRef(key);
      if (name == "img_size")
        args.read(name, config.imageSize);
      else if (name == "patch_size")
        args.read(name, config.patchSize);
      else if (name == "in_chans")
        args.read(name, config.channels);
      else if (name == "embed_dim")
        args.read(name, config.hiddenSize);
      else if (name == "depth")
        args.read(name, config.depth);
      else if (name == "num_heads")
        args.read(name, config.numHeads);
      else if (name == "mlp_ratio")
        args.read(name, mlpRatio, std::nullopt);
      else if (name == "qkv_bias")
        args.read(name, config.qkvBias, true);
      else if (name == "num_classes")
        args.read(name, config.numClasses);
      else if (name == "global_pool")
        args.read(name, pool);
      else
        args.fail("'" + escapedText(name) +
                  "' is an argument vitc does not support");
    }
    config.mlpDim = int64_t(mlpRatio * double(config.hiddenSize) + 0.5);
    if (pool != "token")
      args.fail("global_pool '" + escapedText(pool) +
                "': vitc's head reads the class token (\"token\")");
    fields.fail(args.takeError());
    if (fields.failed())
      return;
  }
  if (features != -1 && features != config.hiddenSize)
    return fields.fail("num_features " + Twine(features) + " is not the " +
                       Twine(config.hiddenSize) + " of " + architecture);

  const Object *pretrained = fields.getObject("pretrained_cfg");
  if (!pretrained)
    return fields.fail("no \"pretrained_cfg\" object: the preprocessing is "
                       "unknown");
  Fields cfg(*pretrained, configPath + ": pretrained_cfg");
  std::vector<double> input;
  cfg.read("mean", config.pixelMean, /*optional=*/false);
  cfg.read("std", config.pixelStd, /*optional=*/false);
  cfg.read("input_size", input, /*optional=*/true);
  if (!cfg.failed() && !input.empty()) {
    if (input.size() != 3 || input[1] != input[2])
      cfg.fail("input_size must be [channels, side, side]");
    config.channels = int64_t(input[0]);
    config.imageSize = int64_t(input[1]);
  }
  fields.fail(cfg.takeError());
}

} // namespace

Expected<ModelDirectory> readModelDirectory(StringRef path) {
  if (!llvm::sys::fs::is_directory(path))
    return failure(path + ": not a directory (--model-dir takes a folder "
                          "with config.json and model.safetensors)");
  ModelDirectory directory;
  llvm::SmallString<256> file(path);
  llvm::sys::path::append(file, "model.safetensors");
  if (!llvm::sys::fs::exists(file))
    return failure(path + ": no model.safetensors (a model folder holds "
                          "config.json and model.safetensors)");
  directory.weightsPath = file.str().str();
  file = path;
  llvm::sys::path::append(file, "config.json");
  std::string configPath = file.str().str();
  Expected<llvm::json::Value> json = readJson(configPath);
  if (!json)
    return json.takeError();

  ModelConfig &config = directory.config;
  llvm::SmallString<256> absolute(path);
  llvm::sys::fs::make_absolute(absolute);
  llvm::sys::path::remove_dots(absolute, /*remove_dot_dot=*/true);
  config.name = llvm::sys::path::filename(absolute).str();
  Fields fields(*json->getAsObject(), configPath);
  if (fields.has("architecture")) {
    directory.convention = "timm";
    readTimm(fields, configPath, config);
  } else if (fields.has("model_type") || fields.has("architectures")) {
    directory.convention = "Hugging Face";
    readHuggingFace(fields, path, config);
  } else {
    // vitc's own format, as --config reads it.
    directory.convention = "vitc";
    std::string text;
    llvm::raw_string_ostream(text) << *json;
    if (Error error = applyJsonOverrides(config, text))
      fields.fail(llvm::toString(std::move(error)));
  }
  if (Error error = fields.takeError())
    return std::move(error);
  return directory;
}

} // namespace vitc
