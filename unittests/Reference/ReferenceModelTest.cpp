//===- ReferenceModelTest.cpp - Hand-checked tests of the reference model -===//
//
// The reference model is the oracle for the whole compiler, so its building
// blocks are checked against values derived by hand (derivations in the
// comments), and the whole model against equivalent formulations of the same
// network (fused vs separate qkv, NCHW+OIHW vs NHWC+HWIO).
//
// Tolerances: the reference stores fp32 and accumulates in double, so each
// result carries about one fp32 rounding, i.e. a relative error of 2^-24
// (6e-8) per stored value. kTolerance = 1e-6 on O(1) values leaves room for
// the few roundings a value passes through while still catching any formula
// error, which shows up at 1e-2 or worse. Results that are sums of small
// dyadic numbers are exact and compared with EXPECT_EQ.
//
//===----------------------------------------------------------------------===//

#include "vitc/Reference/ReferenceModel.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace vitc;
using namespace vitc::reference;

namespace {

constexpr double kTolerance = 1e-6;

void expectNear(const std::vector<float> &actual,
                const std::vector<double> &expected, double tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], tolerance) << "at index " << i;
}

//===----------------------------------------------------------------------===//
// Building blocks
//===----------------------------------------------------------------------===//

TEST(ReferenceLayerNorm, HandComputedRows) {
  // Row [1, 2, 3, 4]: mean 2.5, deviations [-1.5, -0.5, 0.5, 1.5], biased
  // variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25. eps = 0.3125 makes
  // sqrt(var + eps) = sqrt(1.5625) = 1.25, so normalised = [-1.2, -0.4, 0.4,
  // 1.2]; times gamma [1, 2, 0.5, -1] plus beta [0, 1, -1, 0.5] gives
  // [-1.2, 0.2, -0.8, -0.7].
  // Row [7, 7, 7, 7]: deviations are 0, so the result is beta (and eps keeps
  // the division finite).
  // Row [1e6 + 1, ..., 1e6 + 4]: same deviations as row 1, same result; an
  // fp32 E[x^2] - mean^2 (x^2 ~ 1e12 has an fp32 ulp of 65536) would lose it.
  std::vector<float> x = {1, 2, 3,        4,        7,        7,
                          7, 7, 1e6f + 1, 1e6f + 2, 1e6f + 3, 1e6f + 4};
  layerNorm(x, /*rows=*/3, /*width=*/4, /*gamma=*/{1, 2, 0.5f, -1},
            /*beta=*/{0, 1, -1, 0.5f}, /*eps=*/0.3125);
  expectNear(x, {-1.2, 0.2, -0.8, -0.7, 0, 1, -1, 0.5, -1.2, 0.2, -0.8, -0.7},
             kTolerance);
}

TEST(ReferenceSoftmax, KnownRowAndStability) {
  // Row [1, 2, 3]: p = [1, e, e^2] / (1 + e + e^2)
  //   = [0.09003057317038046, 0.24472847105479764, 0.6652409557748219].
  // Row [1000, 1001, 1002] is the same row shifted by 999, and softmax is
  // shift invariant; a naive exp(1000) overflows to inf and gives NaN.
  // Row [5, 5, 5]: uniform, 1/3 each.
  std::vector<float> x = {1, 2, 3, 1000, 1001, 1002, 5, 5, 5};
  softmaxRows(x, /*rows=*/3, /*width=*/3);
  const double third = 1.0 / 3.0;
  expectNear(x,
             {0.09003057317038046, 0.24472847105479764, 0.6652409557748219,
              0.09003057317038046, 0.24472847105479764, 0.6652409557748219,
              third, third, third},
             kTolerance);
}

TEST(ReferenceSoftmax, VeryNegativeEntryVanishes) {
  // exp(-1000 - 0) underflows to 0 in double, so the row is [0, 1] exactly.
  std::vector<float> x = {-1000, 0};
  softmaxRows(x, /*rows=*/1, /*width=*/2);
  EXPECT_EQ(x[0], 0.0f);
  EXPECT_EQ(x[1], 1.0f);
}

TEST(ReferenceGelu, KnownValues) {
  // Both forms are 0.5 x (1 + f(x)) with f odd, so gelu(-x) = gelu(x) - x.
  // Exact: gelu(1) = Phi(1) = 0.5 (1 + erf(1 / sqrt(2))) = 0.8413447460685429
  // (python3 math.erf), gelu(-1) = 0.8413447460685429 - 1.
  // Tanh: gelu(1) = 0.5 (1 + tanh(sqrt(2 / pi) * 1.044715))
  // = 0.8411919906082768, gelu(-1) = 0.8411919906082768 - 1.
  // Everything is computed in double by libm functions accurate to an ulp or
  // two, hence the 1e-15 bound.
  const double tolerance = 1e-15;
  EXPECT_EQ(gelu(0.0, GeluApproximation::Exact), 0.0);
  EXPECT_NEAR(gelu(1.0, GeluApproximation::Exact), 0.8413447460685429,
              tolerance);
  EXPECT_NEAR(gelu(-1.0, GeluApproximation::Exact), -0.15865525393145707,
              tolerance);
  EXPECT_EQ(gelu(0.0, GeluApproximation::Tanh), 0.0);
  EXPECT_NEAR(gelu(1.0, GeluApproximation::Tanh), 0.8411919906082768,
              tolerance);
  EXPECT_NEAR(gelu(-1.0, GeluApproximation::Tanh), -0.15880800939172324,
              tolerance);
}

TEST(ReferenceLinear, TwoByThreeInputFourOutputs) {
  // x = [[1, 2, 3], [4, 5, 6]], W [out = 4, in = 3] rows
  //   w0 = [1, 0, -1], w1 = [0.5, 0.5, 0.5], w2 = [0, 1, 0], w3 = [2, 0, 0],
  // b = [10, -1, 0, 0.25]. y[r][o] = x_r . w_o + b_o:
  //   row 0: [1 - 3 + 10, 3 - 1, 2, 2 + 0.25] = [8, 2, 2, 2.25]
  //   row 1: [4 - 6 + 10, 7.5 - 1, 5, 8 + 0.25] = [8, 6.5, 5, 8.25]
  // All values are small dyadic numbers, so the results are exact.
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  const std::vector<float> weight = {1, 0, -1, 0.5f, 0.5f, 0.5f,
                                     0, 1, 0,  2,    0,    0};
  EXPECT_EQ(linear(x, /*rows=*/2, /*in=*/3, weight, {10, -1, 0, 0.25f},
                   /*out=*/4),
            (std::vector<float>{8, 2, 2, 2.25f, 8, 6.5f, 5, 8.25f}));
  // Without a bias: the same minus b.
  EXPECT_EQ(linear(x, 2, 3, weight, {}, 4),
            (std::vector<float>{-2, 3, 2, 2, -2, 7.5f, 5, 8}));
}

TEST(ReferenceAttention, OneHeadTwoTokens) {
  // headDim 2, scale 1 / sqrt(2).
  //   q = [[1, 1], [0, 0]], k = [[1, 1], [0, 0]], v = [[2, 0], [0, 4]].
  // Token 0: scores [2 / sqrt(2), 0] = [sqrt(2), 0], so
  //   p = [s, 1 - s] with s = sigmoid(sqrt(2)) = 0.8044296825069569 and
  //   out = [2 s, 4 (1 - s)] = [1.6088593650139138, 0.7822812699721724].
  // Token 1: scores [0, 0], p = [0.5, 0.5], out = [1, 2].
  std::vector<float> out =
      attentionCore(/*q=*/{1, 1, 0, 0}, /*k=*/{1, 1, 0, 0}, /*v=*/{2, 0, 0, 4},
                    /*tokens=*/2, /*heads=*/1, /*headDim=*/2);
  expectNear(out, {1.6088593650139138, 0.7822812699721724, 1, 2}, kTolerance);
}

TEST(ReferenceAttention, TwoHeadsAreIndependent) {
  // headDim 1 (scale 1); column h of q, k, v belongs to head h.
  // Head 0: q = [0, 0] gives uniform weights, so out = mean(v[:, 0]) =
  //   (3 + 5) / 2 = 4 for both tokens.
  // Head 1: q = [1, 1], k = [1, 0] gives scores [1, 0] for both tokens, so
  //   p = [sigmoid(1), 1 - sigmoid(1)] and with v[:, 1] = [1, 0],
  //   out = sigmoid(1) = 0.7310585786300049. (Scaling by 1/sqrt(D) = 1/sqrt(2)
  //   instead of 1/sqrt(headDim) would give sigmoid(0.707) = 0.67.)
  const std::vector<float> q = {0, 1, 0, 1}, k = {-7, 1, 9, 0},
                           v = {3, 1, 5, 0};
  std::vector<float> out = attentionCore(q, k, v, /*tokens=*/2, /*heads=*/2,
                                         /*headDim=*/1);
  const double sigmoidOne = 0.7310585786300049;
  expectNear(out, {4, sigmoidOne, 4, sigmoidOne}, kTolerance);

  // Changing everything in head 1 leaves head 0 bit-for-bit unchanged.
  std::vector<float> changed = attentionCore(
      {0, -3, 0, 2}, {-7, 4, 9, 1}, {3, 8, 5, -6}, /*tokens=*/2, /*heads=*/2,
      /*headDim=*/1);
  EXPECT_EQ(changed[0], out[0]);
  EXPECT_EQ(changed[2], out[2]);
}

/// Value of pixel (channel c, row r, column x) of the 2-channel 4x4 test
/// image: distinct and readable as the digits c r x.
float testPixel(int64_t c, int64_t r, int64_t x) {
  return static_cast<float>(100 * c + 10 * r + x);
}

TEST(ReferencePatches, RasterOrderChannelRowColumnInBothLayouts) {
  std::vector<float> nchw, nhwc;
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t r = 0; r < 4; ++r)
      for (int64_t x = 0; x < 4; ++x)
        nchw.push_back(testPixel(c, r, x));
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t x = 0; x < 4; ++x)
      for (int64_t c = 0; c < 2; ++c)
        nhwc.push_back(testPixel(c, r, x));

  // Patches in raster order: (patch row, patch column) = (0,0), (0,1), (1,0),
  // (1,1); each lists channel 0's 2x2 block row by row, then channel 1's.
  const std::vector<float> expected = {
      0,  1,  10, 11, 100, 101, 110, 111, // rows 0-1, columns 0-1
      2,  3,  12, 13, 102, 103, 112, 113, // rows 0-1, columns 2-3
      20, 21, 30, 31, 120, 121, 130, 131, // rows 2-3, columns 0-1
      22, 23, 32, 33, 122, 123, 132, 133, // rows 2-3, columns 2-3
  };
  EXPECT_EQ(extractPatches(nchw.data(), /*channels=*/2, /*imageSize=*/4,
                           /*patchSize=*/2, InputLayout::NCHW),
            expected);
  EXPECT_EQ(extractPatches(nhwc.data(), /*channels=*/2, /*imageSize=*/4,
                           /*patchSize=*/2, InputLayout::NHWC),
            expected);
}

//===----------------------------------------------------------------------===//
// Whole model
//===----------------------------------------------------------------------===//

/// 4x4 images of 2 channels cut into four 2x2 patches (5 tokens), width 4
/// split over 2 heads, 2 blocks, 3 classes.
ModelConfig makeTinyConfig() {
  ModelConfig config;
  config.name = "tiny";
  config.imageSize = 4;
  config.patchSize = 2;
  config.channels = 2;
  config.hiddenSize = 4;
  config.depth = 2;
  config.numHeads = 2;
  config.mlpDim = 8;
  config.numClasses = 3;
  return config;
}

/// Uniform values in [-1, 1) from a fixed seed. The comparisons below only
/// need both formulations to share them, not to know them.
std::vector<float> makeRandomValues(int64_t count, std::mt19937 &engine) {
  std::uniform_real_distribution<float> distribution(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float &value : values)
    value = distribution(engine);
  return values;
}

/// Random weights under timm names (fused qkv, OIHW kernel), built from the
/// shapes the checkpoint format defines.
WeightSet makeTimmWeights(const ModelConfig &config, unsigned seed) {
  const int64_t d = config.hiddenSize, c = config.channels,
                p = config.patchSize;
  std::mt19937 engine(seed);
  WeightSet weights;
  weights.naming = WeightNaming::Timm;
  auto add = [&](const std::string &name, std::vector<int64_t> shape) {
    int64_t count = 1;
    for (int64_t dim : shape)
      count *= dim;
    weights.tensors[name] = {shape, makeRandomValues(count, engine)};
  };
  const ModelParamNames names = getParamNames(config, WeightNaming::Timm);
  add(names.patchKernel, {d, c, p, p});
  add(names.patchBias, {d});
  add(names.classToken, {1, 1, d});
  add(names.positionEmbedding, {1, config.numTokens(), d});
  for (const BlockParamNames &block : names.blocks) {
    add(block.norm1Weight, {d});
    add(block.norm1Bias, {d});
    EXPECT_EQ(block.qkvWeights.size(), 1u);
    add(block.qkvWeights[0], {3 * d, d});
    for (const std::string &bias : block.qkvBiases)
      add(bias, {3 * d});
    add(block.projWeight, {d, d});
    add(block.projBias, {d});
    add(block.norm2Weight, {d});
    add(block.norm2Bias, {d});
    add(block.fc1Weight, {config.mlpDim, d});
    add(block.fc1Bias, {config.mlpDim});
    add(block.fc2Weight, {d, config.mlpDim});
    add(block.fc2Bias, {d});
  }
  add(names.normWeight, {d});
  add(names.normBias, {d});
  add(names.headWeight, {config.numClasses, d});
  add(names.headBias, {config.numClasses});
  return weights;
}

/// Every parameter name except the qkv ones, in a fixed order, so that the
/// same parameter can be found under two naming schemes.
std::vector<std::string> getNamesExceptQkv(const ModelParamNames &names) {
  std::vector<std::string> result = {names.patchKernel, names.patchBias,
                                     names.classToken, names.positionEmbedding};
  for (const BlockParamNames &block : names.blocks)
    result.insert(result.end(),
                  {block.norm1Weight, block.norm1Bias, block.projWeight,
                   block.projBias, block.norm2Weight, block.norm2Bias,
                   block.fc1Weight, block.fc1Bias, block.fc2Weight,
                   block.fc2Bias});
  result.insert(result.end(), {names.normWeight, names.normBias,
                               names.headWeight, names.headBias});
  return result;
}

/// The same weights under Hugging Face names: the fused [3D, D] qkv weight
/// split by rows into query, key and value [D, D] (and the bias likewise).
WeightSet convertToHuggingFace(const ModelConfig &config,
                               const WeightSet &timm) {
  const int64_t d = config.hiddenSize;
  const ModelParamNames timmNames = getParamNames(config, WeightNaming::Timm);
  const ModelParamNames hfNames =
      getParamNames(config, WeightNaming::HuggingFace);
  WeightSet hf;
  hf.naming = WeightNaming::HuggingFace;
  std::vector<std::string> from = getNamesExceptQkv(timmNames),
                           to = getNamesExceptQkv(hfNames);
  for (size_t i = 0; i < from.size(); ++i)
    hf.tensors[to[i]] = timm.get(from[i]);
  for (size_t b = 0; b < hfNames.blocks.size(); ++b) {
    const BlockParamNames &source = timmNames.blocks[b],
                          &target = hfNames.blocks[b];
    EXPECT_EQ(target.qkvWeights.size(), 3u);
    EXPECT_EQ(target.qkvBiases.size(), source.qkvBiases.empty() ? 0u : 3u);
    const std::vector<float> &weight = timm.get(source.qkvWeights[0]).data;
    for (int64_t part = 0; part < 3; ++part) {
      hf.tensors[target.qkvWeights[part]] = {
          {d, d},
          std::vector<float>(weight.begin() + part * d * d,
                             weight.begin() + (part + 1) * d * d)};
      if (source.qkvBiases.empty())
        continue;
      const std::vector<float> &bias = timm.get(source.qkvBiases[0]).data;
      hf.tensors[target.qkvBiases[part]] = {
          {d},
          std::vector<float>(bias.begin() + part * d,
                             bias.begin() + (part + 1) * d)};
    }
  }
  return hf;
}

/// `batch` random images in NCHW.
std::vector<float> makeNchwImages(int64_t batch, const ModelConfig &config) {
  std::mt19937 engine(7);
  return makeRandomValues(
      batch * config.channels * config.imageSize * config.imageSize, engine);
}

TEST(ReferenceModel, FusedAndSeparateQkvAgree) {
  // Splitting the fused weight by rows is exactly what the reference does
  // internally, so any disagreement means one of the two paths reads the
  // wrong rows or names; the bound only allows for a changed summation order.
  for (bool qkvBias : {true, false}) {
    SCOPED_TRACE(qkvBias ? "with qkv bias" : "without qkv bias");
    ModelConfig config = makeTinyConfig();
    config.qkvBias = qkvBias;
    WeightSet timm = makeTimmWeights(config, /*seed=*/1);
    WeightSet hf = convertToHuggingFace(config, timm);
    std::vector<float> images = makeNchwImages(2, config);
    std::vector<float> fusedLogits = runModel(config, timm, images, 2);
    std::vector<float> separateLogits = runModel(config, hf, images, 2);
    ASSERT_EQ(fusedLogits.size(), 6u);
    expectNear(separateLogits,
               std::vector<double>(fusedLogits.begin(), fusedLogits.end()),
               kTolerance);
  }
}

TEST(ReferenceModel, ChannelsLastWithHwioKernelAgreesWithNchwOihw) {
  ModelConfig nchwConfig = makeTinyConfig();
  ModelConfig nhwcConfig = nchwConfig;
  nhwcConfig.inputLayout = InputLayout::NHWC;
  nhwcConfig.kernelLayout = KernelLayout::HWIO;
  const int64_t batch = 2, c = nchwConfig.channels, s = nchwConfig.imageSize,
                p = nchwConfig.patchSize, d = nchwConfig.hiddenSize;

  WeightSet oihwWeights = makeTimmWeights(nchwConfig, /*seed=*/2);
  WeightSet hwioWeights = oihwWeights;
  const std::string kernelName =
      getParamNames(nchwConfig, WeightNaming::Timm).patchKernel;
  const std::vector<float> &oihw = oihwWeights.get(kernelName).data;
  Tensor &hwio = hwioWeights.tensors[kernelName];
  hwio.shape = {p, p, c, d};
  for (int64_t o = 0; o < d; ++o)
    for (int64_t i = 0; i < c; ++i)
      for (int64_t h = 0; h < p; ++h)
        for (int64_t w = 0; w < p; ++w)
          hwio.data[((h * p + w) * c + i) * d + o] =
              oihw[((o * c + i) * p + h) * p + w];

  std::vector<float> nchw = makeNchwImages(batch, nchwConfig);
  std::vector<float> nhwc(nchw.size());
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t i = 0; i < c; ++i)
      for (int64_t h = 0; h < s; ++h)
        for (int64_t w = 0; w < s; ++w)
          nhwc[((n * s + h) * s + w) * c + i] =
              nchw[((n * c + i) * s + h) * s + w];

  // Same patch vectors and same kernel matrix: only the reads differ, so the
  // bound merely allows for a changed summation order.
  std::vector<float> nchwLogits =
      runModel(nchwConfig, oihwWeights, nchw, batch);
  std::vector<float> nhwcLogits =
      runModel(nhwcConfig, hwioWeights, nhwc, batch);
  ASSERT_EQ(nchwLogits.size(), 6u);
  expectNear(nhwcLogits,
             std::vector<double>(nchwLogits.begin(), nchwLogits.end()),
             kTolerance);
}

TEST(ReferenceModel, BatchedImagesAreIndependent) {
  // Each image of a batch gives the logits it gives alone (bit for bit: the
  // same operations run on the same values).
  ModelConfig config = makeTinyConfig();
  WeightSet weights = makeTimmWeights(config, /*seed=*/3);
  std::vector<float> images = makeNchwImages(2, config);
  const size_t imageElements = images.size() / 2;
  std::vector<float> batched = runModel(config, weights, images, 2);
  std::vector<float> first = runModel(
      config, weights,
      std::vector<float>(images.begin(), images.begin() + imageElements), 1);
  std::vector<float> second = runModel(
      config, weights,
      std::vector<float>(images.begin() + imageElements, images.end()), 1);
  EXPECT_EQ(std::vector<float>(batched.begin(), batched.begin() + 3), first);
  EXPECT_EQ(std::vector<float>(batched.begin() + 3, batched.end()), second);
  // Different images must give different logits, or the test is vacuous.
  EXPECT_NE(first, second);
}

TEST(ReferenceModel, PatchBiasActsLikePositionEmbeddingOfPatchTokens) {
  // The conv bias is added to every patch token and only to those, so moving
  // it into position-embedding rows 1..N (leaving the class token's row 0)
  // must not change the logits; a position embedding shifted by one token
  // would. Only the order of two fp32 additions changes, hence the bound.
  ModelConfig config = makeTinyConfig();
  WeightSet withBias = makeTimmWeights(config, /*seed=*/5);
  WeightSet inPosition = withBias;
  const ModelParamNames names = getParamNames(config, WeightNaming::Timm);
  std::vector<float> &bias = inPosition.tensors[names.patchBias].data;
  std::vector<float> &position =
      inPosition.tensors[names.positionEmbedding].data;
  const int64_t d = config.hiddenSize;
  for (int64_t token = 1; token < config.numTokens(); ++token)
    for (int64_t i = 0; i < d; ++i)
      position[token * d + i] += bias[i];
  bias.assign(d, 0.0f);

  std::vector<float> images = makeNchwImages(2, config);
  std::vector<float> expected = runModel(config, withBias, images, 2);
  expectNear(runModel(config, inPosition, images, 2),
             std::vector<double>(expected.begin(), expected.end()), kTolerance);
}

TEST(ReferenceModel, ZeroResidualBranchesLeaveHeadOfNormalizedClassToken) {
  // With the attention output projection and fc2 all zero, every block adds
  // exactly 0 to the residual stream, so the logits are
  //   head(LN(classToken + positionEmbedding[0])).
  // classToken = positionEmbedding[0] = [0.5, 1, 1.5, 2] sum to [1, 2, 3, 4];
  // with eps 0.3125, gamma 1, beta 0 the final LayerNorm gives
  // [-1.2, -0.4, 0.4, 1.2] (see ReferenceLayerNorm.HandComputedRows).
  // Head rows [1, 0, 0, 0], [0, 0, 0, 1], [1, 1, 1, 1] with bias
  // [0.5, 0, -1] give [-1.2 + 0.5, 1.2, 0 - 1] = [-0.7, 1.2, -1].
  // The patches, which reach the class token only through attention, and
  // the remaining random weights must have no effect.
  ModelConfig config = makeTinyConfig();
  config.layerNormEps = 0.3125;
  WeightSet weights = makeTimmWeights(config, /*seed=*/4);
  const ModelParamNames names = getParamNames(config, WeightNaming::Timm);
  auto fill = [&](const std::string &name, std::vector<float> values) {
    Tensor &tensor = weights.tensors[name];
    ASSERT_EQ(tensor.data.size(), values.size()) << name;
    tensor.data = std::move(values);
  };
  for (const BlockParamNames &block : names.blocks) {
    fill(block.projWeight, std::vector<float>(16, 0.0f));
    fill(block.projBias, std::vector<float>(4, 0.0f));
    fill(block.fc2Weight, std::vector<float>(32, 0.0f));
    fill(block.fc2Bias, std::vector<float>(4, 0.0f));
  }
  const std::vector<float> halfClassInput = {0.5f, 1, 1.5f, 2};
  fill(names.classToken, halfClassInput);
  std::vector<float> position = weights.get(names.positionEmbedding).data;
  for (size_t i = 0; i < halfClassInput.size(); ++i)
    position[i] = halfClassInput[i];
  fill(names.positionEmbedding, position);
  fill(names.normWeight, {1, 1, 1, 1});
  fill(names.normBias, {0, 0, 0, 0});
  fill(names.headWeight, {1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1});
  fill(names.headBias, {0.5f, 0, -1});

  expectNear(runModel(config, weights, makeNchwImages(1, config), 1),
             {-0.7, 1.2, -1.0}, kTolerance);
}

} // namespace
