//===- ModelConfig.h - ViT model hyper-parameters and presets ---*- C++ -*-===//
//
// A Vision Transformer is fully described by a ModelConfig plus named
// weights. This header needs LLVM Support (for llvm::Error) but not MLIR, so
// that the reference model and tools outside the compiler can share it.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_FRONTEND_MODELCONFIG_H
#define VITC_FRONTEND_MODELCONFIG_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vitc {

/// Memory layout of the input image batch.
enum class InputLayout { NCHW, NHWC };

/// Layout of the patch-embedding convolution kernel: PyTorch stores
/// [out, in, kh, kw], Keras/TensorFlow stores [kh, kw, in, out].
enum class KernelLayout { OIHW, HWIO };

/// GELU flavour used between the two MLP linears.
enum class GeluApproximation { Exact, Tanh };

struct ModelConfig {
  std::string name = "custom";
  int64_t imageSize = 224;
  int64_t patchSize = 16;
  int64_t channels = 3;
  int64_t hiddenSize = 768;
  int64_t depth = 12;
  int64_t numHeads = 12;
  int64_t mlpDim = 3072;
  int64_t numClasses = 1000;
  bool qkvBias = true;
  double layerNormEps = 1e-6;
  InputLayout inputLayout = InputLayout::NCHW;
  KernelLayout kernelLayout = KernelLayout::OIHW;
  GeluApproximation gelu = GeluApproximation::Exact;
  /// Per-channel normalisation of [0, 1] pixels the weights were trained
  /// with: ImageNet statistics for timm/torchvision, 0.5 for Keras (which
  /// scales pixels to [-1, 1]).
  std::vector<double> pixelMean = {0.485, 0.456, 0.406};
  std::vector<double> pixelStd = {0.229, 0.224, 0.225};
  /// The class names, one per class, that artifacts embed for vit-run and
  /// applications to print; none if the model does not name them.
  std::vector<std::string> labels;

  int64_t patchesPerSide() const { return imageSize / patchSize; }
  int64_t numPatches() const { return patchesPerSide() * patchesPerSide(); }
  /// Patches plus the class token.
  int64_t numTokens() const { return numPatches() + 1; }
  int64_t headDim() const { return hiddenSize / numHeads; }

  /// Succeeds if the configuration is usable; otherwise fails with a message
  /// naming the first offending field.
  llvm::Error validate() const;

  /// Bytes of memory a run of `batch` images needs at the least, whatever
  /// the compiler makes of it: the fp32 input, and, live at once, the
  /// residual stream [B, T, D] and the widest intermediate [B, T, max(3D,
  /// MLP)] (the arena holds more). In floating point, so that absurd
  /// batches do not overflow.
  double minimumRunBytes(int64_t batch) const;

  /// Bytes of the model's fp32 weights (what `vitc --summary` counts as
  /// its parameters, times 4). In floating point, so that absurd sizes do
  /// not overflow.
  double parameterBytes() const;
};

/// Names of all presets, in a stable order for --help texts.
const std::vector<std::string> &presetNames();

/// Returns the preset called `name`, or std::nullopt if there is none.
std::optional<ModelConfig> lookupPreset(const std::string &name);

const char *toString(InputLayout layout);
const char *toString(KernelLayout layout);
const char *toString(GeluApproximation gelu);
std::optional<InputLayout> parseInputLayout(const std::string &text);
std::optional<KernelLayout> parseKernelLayout(const std::string &text);
std::optional<GeluApproximation> parseGelu(const std::string &text);

/// The configuration as a JSON object with the keys applyJsonOverrides
/// reads, so that it can be stored and read back.
std::string toJson(const ModelConfig &config);

/// Overrides fields of `config` from a JSON object such as
/// {"depth": 4, "input_layout": "nhwc"}. Keys are the snake_case field names
/// (see docs/model-config.md). Unknown keys and values of the wrong type are
/// errors. On failure `config` is unspecified.
llvm::Error applyJsonOverrides(ModelConfig &config,
                               const std::string &jsonText);

} // namespace vitc

#endif // VITC_FRONTEND_MODELCONFIG_H
