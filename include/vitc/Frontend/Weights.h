//===- Weights.h - Named ViT weights: naming schemes, loading, init -*- C++
//-*-//
//
// Weights are identified by the names a checkpoint uses. Two naming schemes
// are understood: timm (fused qkv, `blocks.N...`) and Hugging Face
// `ViTForImageClassification` (separate query/key/value, `vit.encoder...`).
// Every tensor keeps the shape it has in the checkpoint; turning it into the
// layout a kernel wants is compile-time work for the compiler.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_FRONTEND_WEIGHTS_H
#define VITC_FRONTEND_WEIGHTS_H

#include "vitc/Frontend/ModelConfig.h"
#include "vitc/Support/Format.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vitc {

/// How a tensor's elements are stored where it leaves the compiler (in an
/// artifact's constant data).
enum class StorageType { F32, BF16, F16 };

/// A dense row-major tensor. Its values are held as f32; with a 16-bit
/// storage type every value is exactly representable in that type.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
  StorageType storage = StorageType::F32;

  int64_t numElements() const;
  /// Bytes of the stored form.
  int64_t storageBytes() const;
};

enum class WeightNaming { Timm, HuggingFace };

const char *toString(WeightNaming naming);
std::optional<WeightNaming> parseWeightNaming(const std::string &text);

/// Checkpoint names of the parameters of one encoder block.
struct BlockParamNames {
  std::string norm1Weight, norm1Bias;
  /// Either one fused [3*D, D] weight or three [D, D] weights (q, k, v).
  std::vector<std::string> qkvWeights;
  /// Parallel to qkvWeights; empty when the model has no qkv bias.
  std::vector<std::string> qkvBiases;
  std::string projWeight, projBias;
  std::string norm2Weight, norm2Bias;
  std::string fc1Weight, fc1Bias, fc2Weight, fc2Bias;
};

/// Checkpoint names of all parameters of a model.
struct ModelParamNames {
  std::string patchKernel, patchBias;
  std::string classToken, positionEmbedding;
  std::vector<BlockParamNames> blocks;
  std::string normWeight, normBias;
  std::string headWeight, headBias;
};

ModelParamNames getParamNames(const ModelConfig &config, WeightNaming naming);

/// What a parameter is; decides its random initialisation.
enum class ParamKind {
  Kernel,    // conv or linear weight
  Bias,      // conv or linear bias
  NormScale, // layer norm gamma
  NormShift, // layer norm beta
  Embedding, // class token, position embedding
};

struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  ParamKind kind;
  /// Inputs feeding each output of a kernel (0 for other kinds).
  int64_t fanIn = 0;
};

/// Every parameter the model expects, in forward order, with its shape.
std::vector<ParamSpec> getParamSpecs(const ModelConfig &config,
                                     WeightNaming naming);

/// The complete, validated weights of one model.
struct WeightSet {
  WeightNaming naming = WeightNaming::Timm;
  std::map<std::string, Tensor> tensors;

  /// The tensor called `name`; it must exist (validated sets always do).
  /// A missing name is a fatal error, in release builds too.
  const Tensor &get(const std::string &name) const;
};

/// Seeded random weights. Each tensor draws from its own stream, seeded by
/// the seed and the tensor's name, so values do not depend on tensor order:
///   Kernel     uniform(-a, a), a = sqrt(3 / fanIn)  (variance 1/fanIn)
///   Bias       uniform(-0.1, 0.1)
///   NormScale  uniform(0.9, 1.1)
///   NormShift  uniform(-0.1, 0.1)
///   Embedding  uniform(-0.5, 0.5)
/// The generator (splitmix64, spelled out in Weights.cpp) gives bit-identical
/// values on every platform.
WeightSet makeRandomWeights(const ModelConfig &config, WeightNaming naming,
                            uint64_t seed);

/// Checks that `tensors` holds exactly the parameters `config` needs under
/// some naming scheme, with the expected shapes and only finite values. The
/// scheme is Hugging Face if any name starts with "vit." or "classifier.",
/// timm otherwise. Checks run in this order: missing tensors, unexpected
/// tensors, shapes, values. On failure the error is a one-line message naming
/// the offending tensor.
llvm::Expected<WeightSet>
validateWeights(const ModelConfig &config,
                std::map<std::string, Tensor> tensors);

/// Reads a safetensors checkpoint and validates it against `config`. Every
/// error starts with `path`.
llvm::Expected<WeightSet> loadWeights(const std::string &path,
                                      const ModelConfig &config);

} // namespace vitc

#endif // VITC_FRONTEND_WEIGHTS_H
