//===- Numerics.h - Inputs and error measure of the end-to-end tests -*- C++
//-*-//
//
// The bound used against the reference model (fp32 kernels vs a double
// accumulating oracle): a dot product of K terms carries a relative error
// of about sqrt(K) * 2^-24 (~3e-6 for K = 3072) typically, and layer norms
// renormalise after every block, so errors do not compound across depth.
// Measured here: 2.6e-7 for ViT-B/16. The bound leaves ~100x headroom for
// other summation orders and CPUs, while a wrong weight, a tanh GELU for an
// exact one (~1e-3) or a missing epilogue moves logits far more (each test
// file checks that a perturbed weight breaks the bound).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_UNITTESTS_E2E_NUMERICS_H
#define VITC_UNITTESTS_E2E_NUMERICS_H

#include "vitc/Frontend/ModelConfig.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace vitc::testing {

/// max |compiled - reference| / max(1, max |reference|) may not exceed this.
constexpr double kRelativeBound = 2e-5;

/// `batch` images of `config`, uniform in [-1, 1), fresh for each seed.
inline std::vector<float> randomImages(const ModelConfig &config, int64_t batch,
                                       uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> pixel(-1.0f, 1.0f);
  std::vector<float> images(batch * config.channels * config.imageSize *
                            config.imageSize);
  for (float &value : images)
    value = pixel(generator);
  return images;
}

/// max |actual - expected| / max(1, max |expected|); infinite when the sizes
/// differ or `actual` holds a NaN or an infinity.
inline double relativeError(const std::vector<float> &actual,
                            const std::vector<float> &expected) {
  if (actual.size() != expected.size())
    return INFINITY;
  double maxDiff = 0, scale = 1;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (!std::isfinite(actual[i]))
      return INFINITY;
    maxDiff = std::max(maxDiff, std::fabs(double(actual[i]) - expected[i]));
    scale = std::max(scale, std::fabs(double(expected[i])));
  }
  return maxDiff / scale;
}

} // namespace vitc::testing

#endif // VITC_UNITTESTS_E2E_NUMERICS_H
