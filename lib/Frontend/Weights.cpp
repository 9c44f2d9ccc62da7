//===- Weights.cpp - Named ViT weights: naming schemes, loading, init -----===//

#include "vitc/Frontend/Weights.h"

#include "vitc/Frontend/Safetensors.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <set>

namespace vitc {

int64_t Tensor::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

int64_t Tensor::storageBytes() const {
  return int64_t(data.size()) * (storage == StorageType::F32 ? 4 : 2);
}

const char *toString(WeightNaming naming) {
  return naming == WeightNaming::Timm ? "timm" : "hf";
}

std::optional<WeightNaming> parseWeightNaming(const std::string &text) {
  if (text == "timm")
    return WeightNaming::Timm;
  if (text == "hf")
    return WeightNaming::HuggingFace;
  return std::nullopt;
}

namespace {

/// The module paths one naming scheme uses; parameter names are these plus
/// ".weight"/".bias" (blocks: blockPrefix + index + "." + module).
struct NamingScheme {
  const char *patch, *classToken, *positionEmbedding;
  const char *blockPrefix, *norm1;
  /// One fused projection or separate query, key and value projections.
  std::vector<const char *> qkv;
  const char *proj, *norm2, *fc1, *fc2;
  const char *norm, *head;
};

const NamingScheme &getScheme(WeightNaming naming) {
  static const NamingScheme timm = {
      "patch_embed.proj", "cls_token", "pos_embed",
      "blocks.",          "norm1",     {"attn.qkv"},
      "attn.proj",        "norm2",     "mlp.fc1",
      "mlp.fc2",          "norm",      "head"};
  static const NamingScheme huggingFace = {
      "vit.embeddings.patch_embeddings.projection",
      "vit.embeddings.cls_token",
      "vit.embeddings.position_embeddings",
      "vit.encoder.layer.",
      "layernorm_before",
      {"attention.attention.query", "attention.attention.key",
       "attention.attention.value"},
      "attention.output.dense",
      "layernorm_after",
      "intermediate.dense",
      "output.dense",
      "vit.layernorm",
      "classifier"};
  return naming == WeightNaming::Timm ? timm : huggingFace;
}

void setWeightAndBias(std::string &weight, std::string &bias,
                      const std::string &module) {
  weight = module + ".weight";
  bias = module + ".bias";
}

} // namespace

ModelParamNames getParamNames(const ModelConfig &config, WeightNaming naming) {
  const NamingScheme &scheme = getScheme(naming);
  ModelParamNames names;
  setWeightAndBias(names.patchKernel, names.patchBias, scheme.patch);
  names.classToken = scheme.classToken;
  names.positionEmbedding = scheme.positionEmbedding;
  for (int64_t i = 0; i < config.depth; ++i) {
    std::string prefix = scheme.blockPrefix + std::to_string(i) + ".";
    BlockParamNames block;
    setWeightAndBias(block.norm1Weight, block.norm1Bias, prefix + scheme.norm1);
    for (const char *module : scheme.qkv) {
      block.qkvWeights.push_back(prefix + module + ".weight");
      if (config.qkvBias)
        block.qkvBiases.push_back(prefix + module + ".bias");
    }
    setWeightAndBias(block.projWeight, block.projBias, prefix + scheme.proj);
    setWeightAndBias(block.norm2Weight, block.norm2Bias, prefix + scheme.norm2);
    setWeightAndBias(block.fc1Weight, block.fc1Bias, prefix + scheme.fc1);
    setWeightAndBias(block.fc2Weight, block.fc2Bias, prefix + scheme.fc2);
    names.blocks.push_back(std::move(block));
  }
  setWeightAndBias(names.normWeight, names.normBias, scheme.norm);
  setWeightAndBias(names.headWeight, names.headBias, scheme.head);
  return names;
}

std::vector<ParamSpec> getParamSpecs(const ModelConfig &config,
                                     WeightNaming naming) {
  const ModelParamNames names = getParamNames(config, naming);
  const int64_t d = config.hiddenSize, c = config.channels,
                p = config.patchSize;
  std::vector<ParamSpec> specs;
  auto add = [&](const std::string &name, std::vector<int64_t> shape,
                 ParamKind kind, int64_t fanIn = 0) {
    specs.push_back({name, std::move(shape), kind, fanIn});
  };
  // PyTorch layout [out, in]; an empty `bias` means the linear has none.
  auto addLinear = [&](const std::string &weight, const std::string &bias,
                       int64_t out, int64_t in) {
    add(weight, {out, in}, ParamKind::Kernel, in);
    if (!bias.empty())
      add(bias, {out}, ParamKind::Bias);
  };
  auto addNorm = [&](const std::string &scale, const std::string &shift) {
    add(scale, {d}, ParamKind::NormScale);
    add(shift, {d}, ParamKind::NormShift);
  };

  add(names.patchKernel,
      config.kernelLayout == KernelLayout::OIHW
          ? std::vector<int64_t>{d, c, p, p}
          : std::vector<int64_t>{p, p, c, d},
      ParamKind::Kernel, c * p * p);
  add(names.patchBias, {d}, ParamKind::Bias);
  add(names.classToken, {1, 1, d}, ParamKind::Embedding);
  add(names.positionEmbedding, {1, config.numTokens(), d},
      ParamKind::Embedding);
  for (const BlockParamNames &block : names.blocks) {
    addNorm(block.norm1Weight, block.norm1Bias);
    // The 3*D query/key/value outputs are split evenly over the weights.
    int64_t qkvOut = 3 * d / static_cast<int64_t>(block.qkvWeights.size());
    for (size_t i = 0; i < block.qkvWeights.size(); ++i)
      addLinear(block.qkvWeights[i],
                block.qkvBiases.empty() ? std::string() : block.qkvBiases[i],
                qkvOut, d);
    addLinear(block.projWeight, block.projBias, d, d);
    addNorm(block.norm2Weight, block.norm2Bias);
    addLinear(block.fc1Weight, block.fc1Bias, config.mlpDim, d);
    addLinear(block.fc2Weight, block.fc2Bias, d, config.mlpDim);
  }
  addNorm(names.normWeight, names.normBias);
  addLinear(names.headWeight, names.headBias, config.numClasses, d);
  return specs;
}

const Tensor &WeightSet::get(const std::string &name) const {
  auto it = tensors.find(name);
  // Checked in release builds too: a missing name is a compiler bug, and
  // dereferencing end() would turn it into silent garbage.
  if (it == tensors.end())
    llvm::reportFatalInternalError("WeightSet::get: no tensor named '" +
                                   llvm::Twine(name) + "'");
  return it->second;
}

namespace {

/// 64-bit FNV-1a hash of the bytes of `text`.
uint64_t fnv1a64(const std::string &text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char byte : text) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

/// splitmix64 (Steele, Lea and Flood, 2014): tiny, fully specified, and good
/// enough for initial weights.
class SplitMix64 {
public:
  explicit SplitMix64(uint64_t state) : state(state) {}

  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

private:
  uint64_t state;
};

/// Fills `tensor` with values uniform in [center - halfWidth,
/// center + halfWidth]. The generator, identical on every platform:
///   state_0  = seed XOR fnv1a64(name)
///   k        = splitmix64(state) >> 40              (24 random bits)
///   s        = (2k + 1 - 2^24) * 2^-24              (odd multiple of 2^-24
///                                                    in (-1, 1), mean 0)
///   value    = float(double(center) + double(halfWidth) * s)
/// center and halfWidth are floats (24-bit significands), so the product is
/// exact in double and the result does not depend on FMA contraction.
void fillUniform(Tensor &tensor, const std::string &name, uint64_t seed,
                 float center, float halfWidth) {
  SplitMix64 random(seed ^ fnv1a64(name));
  tensor.data.resize(static_cast<size_t>(tensor.numElements()));
  for (float &value : tensor.data) {
    int64_t k = static_cast<int64_t>(random.next() >> 40);
    double s = static_cast<double>(2 * k + 1 - (int64_t(1) << 24)) * 0x1p-24;
    value = static_cast<float>(static_cast<double>(center) +
                               static_cast<double>(halfWidth) * s);
  }
}

} // namespace

WeightSet makeRandomWeights(const ModelConfig &config, WeightNaming naming,
                            uint64_t seed) {
  WeightSet weights;
  weights.naming = naming;
  for (const ParamSpec &spec : getParamSpecs(config, naming)) {
    float center = 0.0f, halfWidth = 0.0f;
    switch (spec.kind) {
    case ParamKind::Kernel:
      halfWidth =
          static_cast<float>(std::sqrt(3.0 / static_cast<double>(spec.fanIn)));
      break;
    case ParamKind::Bias:
    case ParamKind::NormShift:
      halfWidth = 0.1f;
      break;
    case ParamKind::NormScale:
      center = 1.0f;
      halfWidth = 0.1f;
      break;
    case ParamKind::Embedding:
      halfWidth = 0.5f;
      break;
    }
    Tensor &tensor = weights.tensors[spec.name];
    tensor.shape = spec.shape;
    fillUniform(tensor, spec.name, seed, center, halfWidth);
  }
  return weights;
}

namespace {

/// Hugging Face checkpoints put everything but the classifier under "vit.".
WeightNaming detectNaming(const std::map<std::string, Tensor> &tensors) {
  for (const auto &entry : tensors) {
    llvm::StringRef name = entry.first;
    if (name.starts_with("vit.") || name.starts_with("classifier."))
      return WeightNaming::HuggingFace;
  }
  return WeightNaming::Timm;
}

std::string andMore(size_t others) {
  return others == 0 ? "" : " and " + std::to_string(others) + " more";
}

} // namespace

llvm::Expected<WeightSet>
validateWeights(const ModelConfig &config,
                std::map<std::string, Tensor> tensors) {
  // getParamSpecs divides by the patch size; never feed it a broken config.
  if (llvm::Error configError = config.validate())
    return llvm::createStringError("invalid model config: " +
                                   llvm::toString(std::move(configError)));
  WeightNaming naming = detectNaming(tensors);
  std::vector<ParamSpec> specs = getParamSpecs(config, naming);

  const ParamSpec *firstMissing = nullptr;
  size_t numMissing = 0;
  std::set<std::string> expected;
  for (const ParamSpec &spec : specs) {
    expected.insert(spec.name);
    if (tensors.count(spec.name))
      continue;
    if (!firstMissing)
      firstMissing = &spec;
    ++numMissing;
  }
  if (firstMissing)
    return llvm::createStringError(
        "missing tensor '" + firstMissing->name + "' (expected shape " +
        formatShape(firstMissing->shape) + ")" + andMore(numMissing - 1));

  // With nothing missing, every name beyond the expected ones is extra.
  if (tensors.size() > expected.size()) {
    for (const auto &entry : tensors) {
      if (expected.count(entry.first))
        continue;
      // The name comes from the file: escape it to keep the error one line.
      std::string message;
      llvm::raw_string_ostream stream(message);
      stream << "unexpected tensor '";
      llvm::printEscapedString(entry.first, stream);
      stream << "' (not part of " << config.name << " with "
             << (naming == WeightNaming::Timm ? "timm" : "Hugging Face")
             << " names)" << andMore(tensors.size() - expected.size() - 1);
      return llvm::createStringError(message);
    }
  }

  for (const ParamSpec &spec : specs) {
    const Tensor &tensor = tensors.at(spec.name);
    if (tensor.shape != spec.shape)
      return llvm::createStringError("tensor '" + spec.name + "' has shape " +
                                     formatShape(tensor.shape) + ", expected " +
                                     formatShape(spec.shape));
    if (tensor.data.size() != static_cast<size_t>(tensor.numElements()))
      return llvm::createStringError("tensor '" + spec.name + "' holds " +
                                     std::to_string(tensor.data.size()) +
                                     " values but its shape " +
                                     formatShape(tensor.shape) + " needs " +
                                     std::to_string(tensor.numElements()));
  }

  for (const ParamSpec &spec : specs) {
    const std::vector<float> &data = tensors.at(spec.name).data;
    for (size_t i = 0; i < data.size(); ++i) {
      if (std::isfinite(data[i]))
        continue;
      return llvm::createStringError("tensor '" + spec.name +
                                     "' has a non-finite value (" +
                                     (std::isnan(data[i]) ? "NaN"
                                      : data[i] > 0       ? "+Inf"
                                                          : "-Inf") +
                                     ") at flat index " + std::to_string(i));
    }
  }

  WeightSet weights;
  weights.naming = naming;
  weights.tensors = std::move(tensors);
  return weights;
}

llvm::Expected<WeightSet> loadWeights(const std::string &path,
                                      const ModelConfig &config) {
  llvm::Expected<std::map<std::string, Tensor>> tensors = readSafetensors(path);
  if (!tensors)
    return tensors.takeError(); // Read errors already start with the path.
  llvm::Expected<WeightSet> weights =
      validateWeights(config, std::move(*tensors));
  if (!weights)
    return llvm::createStringError(path + ": " +
                                   llvm::toString(weights.takeError()));
  return weights;
}

} // namespace vitc
