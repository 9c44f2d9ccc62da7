//===- ReferenceModel.cpp - Plain C++ ViT forward pass (test oracle) ------===//
//
// Every function is the textbook formula written as plain loops. Values are
// stored as fp32, like in compiled code, but every sum is accumulated in
// double so that the oracle's own rounding error (about one fp32 rounding per
// stored value) stays far below the tolerances of the tests that compare
// compiled code against it.
//
//===----------------------------------------------------------------------===//

#include "vitc/Reference/ReferenceModel.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace vitc::reference {

void layerNorm(std::vector<float> &x, int64_t rows, int64_t width,
               const std::vector<float> &gamma, const std::vector<float> &beta,
               double eps) {
  assert(static_cast<int64_t>(x.size()) == rows * width &&
         "x is not [rows, width]");
  assert(static_cast<int64_t>(gamma.size()) == width &&
         static_cast<int64_t>(beta.size()) == width &&
         "gamma and beta must have `width` elements");
  for (int64_t r = 0; r < rows; ++r) {
    float *row = x.data() + r * width;
    double sum = 0.0;
    for (int64_t i = 0; i < width; ++i)
      sum += row[i];
    double mean = sum / width;
    // Two passes: summing squared deviations avoids the cancellation of
    // E[x^2] - mean^2 when the mean is large compared to the spread.
    double squaredDeviations = 0.0;
    for (int64_t i = 0; i < width; ++i) {
      double deviation = row[i] - mean;
      squaredDeviations += deviation * deviation;
    }
    double inverseStd = 1.0 / std::sqrt(squaredDeviations / width + eps);
    for (int64_t i = 0; i < width; ++i)
      row[i] =
          static_cast<float>((row[i] - mean) * inverseStd * gamma[i] + beta[i]);
  }
}

void softmaxRows(std::vector<float> &x, int64_t rows, int64_t width) {
  assert(static_cast<int64_t>(x.size()) == rows * width &&
         "x is not [rows, width]");
  assert(width > 0 && "softmax of an empty row");
  std::vector<double> exponentials(width);
  for (int64_t r = 0; r < rows; ++r) {
    float *row = x.data() + r * width;
    // Subtracting the row maximum leaves the result unchanged mathematically
    // and keeps exp() from overflowing.
    double maximum = row[0];
    for (int64_t i = 1; i < width; ++i)
      maximum = std::max(maximum, static_cast<double>(row[i]));
    double sum = 0.0;
    for (int64_t i = 0; i < width; ++i) {
      exponentials[i] = std::exp(row[i] - maximum);
      sum += exponentials[i];
    }
    for (int64_t i = 0; i < width; ++i)
      row[i] = static_cast<float>(exponentials[i] / sum);
  }
}

double gelu(double x, GeluApproximation approximation) {
  if (approximation == GeluApproximation::Exact)
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  const double pi = std::acos(-1.0);
  return 0.5 * x *
         (1.0 + std::tanh(std::sqrt(2.0 / pi) * (x + 0.044715 * x * x * x)));
}

std::vector<float> linear(const std::vector<float> &x, int64_t rows, int64_t in,
                          const std::vector<float> &weight,
                          const std::vector<float> &bias, int64_t out) {
  assert(static_cast<int64_t>(x.size()) == rows * in && "x is not [rows, in]");
  assert(static_cast<int64_t>(weight.size()) == out * in &&
         "weight is not [out, in]");
  assert((bias.empty() || static_cast<int64_t>(bias.size()) == out) &&
         "bias is neither empty nor [out]");
  std::vector<float> y(rows * out);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      double sum = bias.empty() ? 0.0 : bias[o];
      for (int64_t i = 0; i < in; ++i)
        sum += static_cast<double>(x[r * in + i]) * weight[o * in + i];
      y[r * out + o] = static_cast<float>(sum);
    }
  }
  return y;
}

std::vector<float> attentionCore(const std::vector<float> &q,
                                 const std::vector<float> &k,
                                 const std::vector<float> &v, int64_t tokens,
                                 int64_t heads, int64_t headDim) {
  const int64_t width = heads * headDim;
  assert(static_cast<int64_t>(q.size()) == tokens * width &&
         static_cast<int64_t>(k.size()) == tokens * width &&
         static_cast<int64_t>(v.size()) == tokens * width &&
         "q, k and v must be [tokens, heads * headDim]");
  const double scale = 1.0 / std::sqrt(static_cast<double>(headDim));
  std::vector<float> out(tokens * width);
  std::vector<float> probabilities(tokens);
  for (int64_t h = 0; h < heads; ++h) {
    const int64_t firstColumn = h * headDim;
    for (int64_t query = 0; query < tokens; ++query) {
      for (int64_t key = 0; key < tokens; ++key) {
        double dot = 0.0;
        for (int64_t d = 0; d < headDim; ++d)
          dot += static_cast<double>(q[query * width + firstColumn + d]) *
                 k[key * width + firstColumn + d];
        probabilities[key] = static_cast<float>(dot * scale);
      }
      softmaxRows(probabilities, 1, tokens);
      for (int64_t d = 0; d < headDim; ++d) {
        double sum = 0.0;
        for (int64_t key = 0; key < tokens; ++key)
          sum += static_cast<double>(probabilities[key]) *
                 v[key * width + firstColumn + d];
        out[query * width + firstColumn + d] = static_cast<float>(sum);
      }
    }
  }
  return out;
}

std::vector<float> extractPatches(const float *image, int64_t channels,
                                  int64_t imageSize, int64_t patchSize,
                                  InputLayout layout) {
  assert(imageSize % patchSize == 0 && "patches must tile the image");
  auto pixel = [&](int64_t channel, int64_t row, int64_t column) {
    if (layout == InputLayout::NCHW)
      return image[(channel * imageSize + row) * imageSize + column];
    return image[(row * imageSize + column) * channels + channel];
  };
  const int64_t patchesPerSide = imageSize / patchSize;
  std::vector<float> patches;
  patches.reserve(channels * imageSize * imageSize);
  // The loop nest is the output order: patch row, patch column, then the
  // patch's [channel, row, column].
  for (int64_t patchRow = 0; patchRow < patchesPerSide; ++patchRow)
    for (int64_t patchColumn = 0; patchColumn < patchesPerSide; ++patchColumn)
      for (int64_t channel = 0; channel < channels; ++channel)
        for (int64_t row = 0; row < patchSize; ++row)
          for (int64_t column = 0; column < patchSize; ++column)
            patches.push_back(pixel(channel, patchRow * patchSize + row,
                                    patchColumn * patchSize + column));
  return patches;
}

namespace {

/// The data of parameter `name`, checked to hold `expectedElements` values.
const std::vector<float> &getParam(const WeightSet &weights,
                                   const std::string &name,
                                   int64_t expectedElements) {
  const std::vector<float> &data = weights.get(name).data;
  (void)expectedElements; // Only read by the assert.
  assert(static_cast<int64_t>(data.size()) == expectedElements &&
         "parameter has an unexpected number of elements");
  return data;
}

/// Rows [firstRow, firstRow + numRows) of a row-major [*, width] matrix.
std::vector<float> sliceRows(const std::vector<float> &matrix, int64_t firstRow,
                             int64_t numRows, int64_t width) {
  return std::vector<float>(matrix.begin() + firstRow * width,
                            matrix.begin() + (firstRow + numRows) * width);
}

/// The patch-embedding kernel as a [D, C * P * P] linear weight whose
/// columns follow extractPatches' [channel, row, column] order.
std::vector<float> getPatchKernelMatrix(const ModelConfig &config,
                                        const WeightSet &weights,
                                        const std::string &name) {
  const int64_t width = config.hiddenSize, channels = config.channels,
                patch = config.patchSize;
  const std::vector<float> &kernel =
      getParam(weights, name, width * channels * patch * patch);
  // OIHW [D, C, P, P] already is that matrix, flattened.
  if (config.kernelLayout == KernelLayout::OIHW)
    return kernel;
  // HWIO [P, P, C, D].
  std::vector<float> matrix(kernel.size());
  for (int64_t out = 0; out < width; ++out)
    for (int64_t channel = 0; channel < channels; ++channel)
      for (int64_t row = 0; row < patch; ++row)
        for (int64_t column = 0; column < patch; ++column)
          matrix[((out * channels + channel) * patch + row) * patch + column] =
              kernel[((row * patch + column) * channels + channel) * width +
                     out];
  return matrix;
}

/// Query, key and value projections as three [D, D] weights and three [D]
/// biases (empty when the model has no qkv bias), whether the checkpoint
/// stores them fused or separately.
struct QkvParams {
  std::vector<float> weights[3];
  std::vector<float> biases[3];
};

QkvParams getQkvParams(const ModelConfig &config, const WeightSet &weights,
                       const BlockParamNames &names) {
  const int64_t width = config.hiddenSize;
  const bool fused = names.qkvWeights.size() == 1;
  const bool hasBias = !names.qkvBiases.empty();
  assert((fused || names.qkvWeights.size() == 3) &&
         "qkv weights must be one fused or three separate tensors");
  assert((!hasBias || names.qkvBiases.size() == names.qkvWeights.size()) &&
         "qkv biases must parallel the qkv weights");
  QkvParams params;
  for (int64_t part = 0; part < 3; ++part) {
    if (fused) {
      // Rows [part * D, (part + 1) * D) of the fused [3D, D] weight.
      params.weights[part] =
          sliceRows(getParam(weights, names.qkvWeights[0], 3 * width * width),
                    part * width, width, width);
      if (hasBias)
        params.biases[part] =
            sliceRows(getParam(weights, names.qkvBiases[0], 3 * width),
                      part * width, width, 1);
    } else {
      params.weights[part] =
          getParam(weights, names.qkvWeights[part], width * width);
      if (hasBias)
        params.biases[part] = getParam(weights, names.qkvBiases[part], width);
    }
  }
  return params;
}

void addInPlace(std::vector<float> &x, const std::vector<float> &y) {
  assert(x.size() == y.size() && "residual shapes differ");
  for (size_t i = 0; i < x.size(); ++i)
    x[i] += y[i];
}

/// One pre-norm encoder block on x [tokens, D], in place:
/// x += Attention(LN1(x)); x += MLP(LN2(x)).
void runEncoderBlock(const ModelConfig &config, const WeightSet &weights,
                     const BlockParamNames &names, std::vector<float> &x) {
  const int64_t tokens = config.numTokens(), width = config.hiddenSize,
                mlpDim = config.mlpDim;

  std::vector<float> normed = x;
  layerNorm(normed, tokens, width, getParam(weights, names.norm1Weight, width),
            getParam(weights, names.norm1Bias, width), config.layerNormEps);
  QkvParams qkv = getQkvParams(config, weights, names);
  std::vector<float> q =
      linear(normed, tokens, width, qkv.weights[0], qkv.biases[0], width);
  std::vector<float> k =
      linear(normed, tokens, width, qkv.weights[1], qkv.biases[1], width);
  std::vector<float> v =
      linear(normed, tokens, width, qkv.weights[2], qkv.biases[2], width);
  std::vector<float> attended =
      attentionCore(q, k, v, tokens, config.numHeads, config.headDim());
  addInPlace(x, linear(attended, tokens, width,
                       getParam(weights, names.projWeight, width * width),
                       getParam(weights, names.projBias, width), width));

  normed = x;
  layerNorm(normed, tokens, width, getParam(weights, names.norm2Weight, width),
            getParam(weights, names.norm2Bias, width), config.layerNormEps);
  std::vector<float> hidden = linear(
      normed, tokens, width, getParam(weights, names.fc1Weight, mlpDim * width),
      getParam(weights, names.fc1Bias, mlpDim), mlpDim);
  for (float &value : hidden)
    value = static_cast<float>(gelu(value, config.gelu));
  addInPlace(x, linear(hidden, tokens, mlpDim,
                       getParam(weights, names.fc2Weight, width * mlpDim),
                       getParam(weights, names.fc2Bias, width), width));
}

} // namespace

std::vector<float> runModel(const ModelConfig &config, const WeightSet &weights,
                            const std::vector<float> &images, int64_t batch) {
  assert(!llvm::errorToBool(config.validate()) && "invalid model config");
  const int64_t channels = config.channels, patch = config.patchSize,
                width = config.hiddenSize, patches = config.numPatches(),
                tokens = config.numTokens(), classes = config.numClasses;
  const int64_t imageElements = channels * config.imageSize * config.imageSize;
  assert(static_cast<int64_t>(images.size()) == batch * imageElements &&
         "images must hold `batch` images of the configured size");

  const ModelParamNames names = getParamNames(config, weights.naming);
  assert(static_cast<int64_t>(names.blocks.size()) == config.depth &&
         "one set of block names per layer");
  const std::vector<float> patchKernel =
      getPatchKernelMatrix(config, weights, names.patchKernel);
  const std::vector<float> &patchBias =
      getParam(weights, names.patchBias, width);
  const std::vector<float> &classToken =
      getParam(weights, names.classToken, width);
  const std::vector<float> &positionEmbedding =
      getParam(weights, names.positionEmbedding, tokens * width);

  std::vector<float> logits(batch * classes);
  for (int64_t image = 0; image < batch; ++image) {
    // A convolution with kernel = stride = patch is a linear map per patch.
    std::vector<float> embeddedPatches = linear(
        extractPatches(images.data() + image * imageElements, channels,
                       config.imageSize, patch, config.inputLayout),
        patches, channels * patch * patch, patchKernel, patchBias, width);

    // Token 0 is the class token, token t > 0 is patch t - 1.
    std::vector<float> x(tokens * width);
    for (int64_t d = 0; d < width; ++d)
      x[d] = classToken[d] + positionEmbedding[d];
    for (int64_t token = 1; token < tokens; ++token)
      for (int64_t d = 0; d < width; ++d)
        x[token * width + d] = embeddedPatches[(token - 1) * width + d] +
                               positionEmbedding[token * width + d];

    for (const BlockParamNames &blockNames : names.blocks)
      runEncoderBlock(config, weights, blockNames, x);

    layerNorm(x, tokens, width, getParam(weights, names.normWeight, width),
              getParam(weights, names.normBias, width), config.layerNormEps);
    // Only the class token feeds the classifier.
    std::vector<float> classLogits =
        linear(sliceRows(x, 0, 1, width), 1, width,
               getParam(weights, names.headWeight, classes * width),
               getParam(weights, names.headBias, classes), classes);
    std::copy(classLogits.begin(), classLogits.end(),
              logits.begin() + image * classes);
  }
  return logits;
}

} // namespace vitc::reference
