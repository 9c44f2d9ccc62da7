//===- ReferenceModel.h - Plain C++ ViT forward pass (test oracle) -*- C++ -*-//
//
// An independent, deliberately simple implementation of the ViT forward
// pass: fp32 storage, double accumulation, no tiling, no fusion. It shares
// only the config and weight types with the compiler and is the oracle that
// numerics tests compare compiled code against.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_REFERENCE_REFERENCEMODEL_H
#define VITC_REFERENCE_REFERENCEMODEL_H

#include "vitc/Frontend/ModelConfig.h"
#include "vitc/Frontend/Weights.h"

#include <cstdint>
#include <vector>

namespace vitc::reference {

/// Building blocks, exposed for unit tests. All matrices are row-major.

/// Normalises each row of x [rows, width] in place: (x - mean) / sqrt(var +
/// eps) * gamma + beta, with the biased (population) variance.
void layerNorm(std::vector<float> &x, int64_t rows, int64_t width,
               const std::vector<float> &gamma, const std::vector<float> &beta,
               double eps);

/// Numerically stable softmax of each row of x [rows, width], in place.
void softmaxRows(std::vector<float> &x, int64_t rows, int64_t width);

/// gelu(x) = x * Phi(x) exactly, or its tanh approximation.
double gelu(double x, GeluApproximation approximation);

/// y[rows, out] = x[rows, in] * W^T + b, with W stored [out, in] (PyTorch
/// nn.Linear layout). `bias` may be empty.
std::vector<float> linear(const std::vector<float> &x, int64_t rows, int64_t in,
                          const std::vector<float> &weight,
                          const std::vector<float> &bias, int64_t out);

/// Multi-head scaled dot-product attention over already projected q, k, v,
/// each [tokens, heads * headDim]; returns [tokens, heads * headDim].
std::vector<float> attentionCore(const std::vector<float> &q,
                                 const std::vector<float> &k,
                                 const std::vector<float> &v, int64_t tokens,
                                 int64_t heads, int64_t headDim);

/// Cuts one image (in `layout`) into patches in raster order (row of patches
/// by row of patches); each patch is flattened in [channel, row, column]
/// order, the order of a PyTorch OIHW kernel's inner dimensions. Returns
/// [numPatches, channels * patch * patch].
std::vector<float> extractPatches(const float *image, int64_t channels,
                                  int64_t imageSize, int64_t patchSize,
                                  InputLayout layout);

/// Runs the whole model on `images` (batch x image in config.inputLayout)
/// and returns the logits [batch, numClasses].
std::vector<float> runModel(const ModelConfig &config, const WeightSet &weights,
                            const std::vector<float> &images, int64_t batch);

} // namespace vitc::reference

#endif // VITC_REFERENCE_REFERENCEMODEL_H
