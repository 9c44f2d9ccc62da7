//===- ModelConfigTest.cpp - Presets, validation and JSON overrides -------===//

#include "vitc/Frontend/ModelConfig.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace vitc;

namespace {

ModelConfig preset(const std::string &name) {
  std::optional<ModelConfig> config = lookupPreset(name);
  EXPECT_TRUE(config.has_value()) << name;
  return config.value_or(ModelConfig());
}

TEST(ModelConfigTest, EveryPresetNameResolvesToAValidConfig) {
  ASSERT_FALSE(presetNames().empty());
  for (const std::string &name : presetNames()) {
    std::optional<ModelConfig> config = lookupPreset(name);
    ASSERT_TRUE(config.has_value()) << name;
    EXPECT_EQ(config->name, name);
    EXPECT_EQ(llvm::toString(config->validate()), "") << name;
  }
  EXPECT_FALSE(lookupPreset("vit-z99").has_value());
}

TEST(ModelConfigTest, PresetSizes) {
  struct Expected {
    const char *name;
    int64_t width, depth, heads, patch;
  };
  for (const Expected &e : {Expected{"vit-ti16", 192, 12, 3, 16},
                            Expected{"vit-s16", 384, 12, 6, 16},
                            Expected{"vit-b16", 768, 12, 12, 16},
                            Expected{"vit-b16-keras", 768, 12, 12, 16},
                            Expected{"vit-l16", 1024, 24, 16, 16},
                            Expected{"vit-b32", 768, 12, 12, 32}}) {
    ModelConfig config = preset(e.name);
    EXPECT_EQ(config.hiddenSize, e.width) << e.name;
    EXPECT_EQ(config.depth, e.depth) << e.name;
    EXPECT_EQ(config.numHeads, e.heads) << e.name;
    EXPECT_EQ(config.patchSize, e.patch) << e.name;
    EXPECT_EQ(config.mlpDim, 4 * e.width) << e.name;
    EXPECT_EQ(config.imageSize, 224) << e.name;
    EXPECT_EQ(config.numClasses, 1000) << e.name;
  }
  ModelConfig b16 = preset("vit-b16");
  EXPECT_EQ(b16.numPatches(), 196);
  EXPECT_EQ(b16.numTokens(), 197);
  EXPECT_EQ(b16.headDim(), 64);
  EXPECT_TRUE(b16.qkvBias);
  EXPECT_EQ(b16.inputLayout, InputLayout::NCHW);
  EXPECT_EQ(b16.kernelLayout, KernelLayout::OIHW);
  EXPECT_EQ(preset("vit-b32").numTokens(), 50);
}

// The parameter counts `vitc --model NAME --summary` prints (from the built
// IR), as fp32 bytes: ViT-B/16's 86,567,656 is timm's count too; the Keras
// preset has no qkv bias.
TEST(ModelConfigTest, ParameterBytesMatchTheSummary) {
  EXPECT_EQ(preset("vit-b16").parameterBytes(), 4.0 * 86567656);
  EXPECT_EQ(preset("vit-ti16").parameterBytes(), 4.0 * 5717416);
  EXPECT_EQ(preset("vit-b16-keras").parameterBytes(), 4.0 * 86540008);
  ModelConfig huge = preset("vit-ti16");
  huge.numClasses = int64_t(1) << 50;
  EXPECT_GT(huge.parameterBytes(), 4.0 * 192 * double(int64_t(1) << 50));
}

TEST(ModelConfigTest, KerasPresetIsChannelsLastWithoutQkvBias) {
  ModelConfig keras = preset("vit-b16-keras");
  EXPECT_EQ(keras.inputLayout, InputLayout::NHWC);
  EXPECT_EQ(keras.kernelLayout, KernelLayout::HWIO);
  EXPECT_FALSE(keras.qkvBias);
}

TEST(ModelConfigTest, ValidateRejectsBadConfigs) {
  ModelConfig config = preset("vit-b16");
  config.numHeads = 7;
  EXPECT_EQ(llvm::toString(config.validate()),
            "num_heads 7 does not divide hidden_size 768");

  config = preset("vit-b16");
  config.imageSize = 225;
  EXPECT_EQ(llvm::toString(config.validate()),
            "image_size 225 is not a multiple of patch_size 16");

  // Values a double holds but fp32, which the kernels compute in, does not
  // (1e-50 is 0 there, 1e39 infinity) are refused too.
  for (auto [eps, text] : {std::pair<double, const char *>{0.0, "0"},
                           {-1e-6, "-1e-06"},
                           {std::nan(""), "nan"},
                           {1e-50, "1e-50"},
                           {1e39, "1e+39"}}) {
    config = preset("vit-b16");
    config.layerNormEps = eps;
    EXPECT_EQ(llvm::toString(config.validate()),
              std::string("layer_norm_eps must be a positive number that "
                          "fp32 holds (1.4e-45 to 3.4e38), got ") +
                  text)
        << eps;
  }
  config = preset("vit-b16");
  config.layerNormEps = 1e-40; // a subnormal fp32 number, but not zero
  EXPECT_EQ(llvm::toString(config.validate()), "");

  config = preset("vit-b16");
  config.depth = 0;
  EXPECT_EQ(llvm::toString(config.validate()), "depth must be positive, got 0");
}

TEST(ModelConfigTest, EnumStringsRoundTrip) {
  for (InputLayout layout : {InputLayout::NCHW, InputLayout::NHWC})
    EXPECT_EQ(parseInputLayout(toString(layout)), layout);
  for (KernelLayout layout : {KernelLayout::OIHW, KernelLayout::HWIO})
    EXPECT_EQ(parseKernelLayout(toString(layout)), layout);
  for (GeluApproximation gelu :
       {GeluApproximation::Exact, GeluApproximation::Tanh})
    EXPECT_EQ(parseGelu(toString(gelu)), gelu);
  EXPECT_FALSE(parseInputLayout("NCHW").has_value());
  EXPECT_FALSE(parseGelu("").has_value());
}

TEST(ModelConfigTest, JsonOverridesSetFields) {
  ModelConfig config = preset("vit-b16");
  llvm::Error error = applyJsonOverrides(
      config,
      R"({"name": "small", "depth": 4, "image_size": 32, "patch_size": 8,
          "qkv_bias": false, "layer_norm_eps": 1e-5, "input_layout": "nhwc",
          "kernel_layout": "hwio", "gelu": "tanh", "num_classes": 10})");
  ASSERT_FALSE(bool(error)) << llvm::toString(std::move(error));
  EXPECT_EQ(config.name, "small");
  EXPECT_EQ(config.depth, 4);
  EXPECT_EQ(config.imageSize, 32);
  EXPECT_EQ(config.patchSize, 8);
  EXPECT_FALSE(config.qkvBias);
  EXPECT_DOUBLE_EQ(config.layerNormEps, 1e-5);
  EXPECT_EQ(config.inputLayout, InputLayout::NHWC);
  EXPECT_EQ(config.kernelLayout, KernelLayout::HWIO);
  EXPECT_EQ(config.gelu, GeluApproximation::Tanh);
  EXPECT_EQ(config.numClasses, 10);
  // Untouched fields keep their preset values.
  EXPECT_EQ(config.hiddenSize, 768);
  EXPECT_EQ(llvm::toString(config.validate()), "");
}

TEST(ModelConfigTest, JsonOverrideErrors) {
  struct Case {
    const char *json;
    const char *expected;
  };
  for (const Case &c :
       {Case{R"({"depht": 4})", "unknown config key 'depht'"},
        Case{R"({"depth": "4"})", "config key 'depth' must be an integer"},
        Case{R"({"depth": 4.5})", "config key 'depth' must be an integer"},
        // 2^63 as a double: llvm::json's getAsInteger lets it through and
        // converts it with undefined behaviour (fuzz-model-config).
        Case{R"({"depth": 9223372036854775808.0})",
             "config key 'depth' must be an integer"},
        Case{R"({"depth": 1e300})", "config key 'depth' must be an integer"},
        Case{R"({"qkv_bias": 1})",
             "config key 'qkv_bias' must be true or false"},
        Case{R"({"layer_norm_eps": "small"})",
             "config key 'layer_norm_eps' must be a number"},
        Case{R"({"name": 3})", "config key 'name' must be a string"},
        Case{R"({"input_layout": "chw"})",
             "config key 'input_layout' must be \"nchw\" or \"nhwc\""},
        Case{R"({"gelu": 1})", "config key 'gelu' must be a string"},
        Case{R"([1, 2])", "the config must be a JSON object"}}) {
    ModelConfig config;
    EXPECT_EQ(llvm::toString(applyJsonOverrides(config, c.json)), c.expected)
        << c.json;
  }
}

TEST(ModelConfigTest, JsonIntegersAtTheEdgesOfInt64) {
  // Integral doubles below 2^63 and integers up to INT64_MAX are integers.
  ModelConfig config;
  ASSERT_FALSE(bool(applyJsonOverrides(config, R"({"depth": 4.0})")));
  EXPECT_EQ(config.depth, 4);
  ASSERT_FALSE(
      bool(applyJsonOverrides(config, R"({"depth": 9223372036854774784.0})")));
  EXPECT_EQ(config.depth, 9223372036854774784);
  ASSERT_FALSE(
      bool(applyJsonOverrides(config, R"({"depth": 9223372036854775807})")));
  EXPECT_EQ(config.depth, INT64_MAX);
  ASSERT_FALSE(
      bool(applyJsonOverrides(config, R"({"depth": -9223372036854775808.0})")));
  EXPECT_EQ(config.depth, INT64_MIN);
}

TEST(ModelConfigTest, InvalidJsonIsReported) {
  ModelConfig config;
  std::string error =
      llvm::toString(applyJsonOverrides(config, R"({"depth": )"));
  EXPECT_EQ(error.rfind("invalid JSON: ", 0), 0u) << error;
}

} // namespace

namespace {

TEST(ModelConfigJson, RoundTripsEveryField) {
  for (const std::string &name : vitc::presetNames()) {
    vitc::ModelConfig preset = *vitc::lookupPreset(name);
    vitc::ModelConfig restored;
    restored.name = "other";
    restored.pixelMean = {0.1, 0.2, 0.3};
    llvm::Error error =
        vitc::applyJsonOverrides(restored, vitc::toJson(preset));
    ASSERT_FALSE(bool(error)) << llvm::toString(std::move(error));
    EXPECT_EQ(vitc::toJson(restored), vitc::toJson(preset));
    EXPECT_EQ(restored.pixelMean, preset.pixelMean);
    EXPECT_EQ(restored.qkvBias, preset.qkvBias);
    EXPECT_EQ(restored.inputLayout, preset.inputLayout);
  }
}

TEST(ModelConfigJson, PixelStatisticsAreValidated) {
  vitc::ModelConfig config = *vitc::lookupPreset("vit-b16");
  EXPECT_EQ(llvm::toString(
                vitc::applyJsonOverrides(config, R"({"pixel_mean": "x"})")),
            "config key 'pixel_mean' must be an array of numbers");
  llvm::Error error =
      vitc::applyJsonOverrides(config, R"({"pixel_std": [1, 2]})");
  ASSERT_FALSE(bool(error)) << llvm::toString(std::move(error));
  EXPECT_EQ(llvm::toString(config.validate()),
            "pixel_mean and pixel_std need one value per channel (3), got 3 "
            "and 2: pass --pixel-mean and --pixel-std once each, "
            "comma-separated");
  config.pixelStd = {1, 0, 1};
  EXPECT_EQ(llvm::toString(config.validate()),
            "pixel_std values must be positive normal fp32 numbers (1.2e-38 "
            "to 3.4e38), got 0");
  // 1e-40 is subnormal in fp32: the runtime's 1 / std would be infinite.
  config.pixelStd = {1, 1e-40, 1};
  EXPECT_EQ(llvm::toString(config.validate()),
            "pixel_std values must be positive normal fp32 numbers (1.2e-38 "
            "to 3.4e38), got 1e-40");
  config.pixelStd = {1, 1.2e-38, 1};
  EXPECT_EQ(llvm::toString(config.validate()), "");
  config.pixelStd = {1, 1, 1};
  config.pixelMean = {0, NAN, 0};
  EXPECT_EQ(llvm::toString(config.validate()),
            "pixel_mean values must be finite in fp32 (at most 3.4e38 in "
            "magnitude), got nan");
  config.pixelMean = {0, 1e39, 0};
  EXPECT_EQ(llvm::toString(config.validate()),
            "pixel_mean values must be finite in fp32 (at most 3.4e38 in "
            "magnitude), got 1e+39");
  EXPECT_EQ(vitc::lookupPreset("vit-b16-keras")->pixelMean,
            (std::vector<double>{0.5, 0.5, 0.5}));
}

TEST(ModelConfigJson, LabelsNameEveryClassOrNone) {
  vitc::ModelConfig config = *vitc::lookupPreset("vit-ti16");
  config.numClasses = 3;
  EXPECT_EQ(vitc::toJson(config).find("labels"), std::string::npos);
  llvm::Error error = vitc::applyJsonOverrides(
      config, R"({"labels": ["cat", "dog", "line\nbreak"]})");
  ASSERT_FALSE(bool(error)) << llvm::toString(std::move(error));
  EXPECT_EQ(llvm::toString(config.validate()), "");
  // They survive the round trip through the artifact's config JSON.
  vitc::ModelConfig restored = *vitc::lookupPreset("vit-ti16");
  error = vitc::applyJsonOverrides(restored, vitc::toJson(config));
  ASSERT_FALSE(bool(error)) << llvm::toString(std::move(error));
  EXPECT_EQ(restored.labels,
            (std::vector<std::string>{"cat", "dog", "line\nbreak"}));

  config.numClasses = 4;
  EXPECT_EQ(llvm::toString(config.validate()),
            "3 labels for 4 classes (num_classes)");
  EXPECT_EQ(llvm::toString(
                vitc::applyJsonOverrides(config, R"({"labels": ["a", 1]})")),
            "config key 'labels' must be an array of strings");
}

} // namespace
