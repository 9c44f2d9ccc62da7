//===- ModelBuilder.cpp - Emit vit-dialect IR for a ViT config ------------===//

#include "vitc/Frontend/ModelBuilder.h"

#include "vitc/Dialect/ViT/IR/ViTOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <cassert>
#include <map>

using namespace mlir;

namespace vitc {

namespace {

vit::InputLayout toDialect(InputLayout layout) {
  return layout == InputLayout::NCHW ? vit::InputLayout::NCHW
                                     : vit::InputLayout::NHWC;
}
vit::KernelLayout toDialect(KernelLayout layout) {
  return layout == KernelLayout::OIHW ? vit::KernelLayout::OIHW
                                      : vit::KernelLayout::HWIO;
}
vit::GeluApproximation toDialect(GeluApproximation gelu) {
  return gelu == GeluApproximation::Exact ? vit::GeluApproximation::Exact
                                          : vit::GeluApproximation::Tanh;
}

/// Emits the layers of @vit. Every op gets a NameLoc with its layer name.
class GraphEmitter {
public:
  GraphEmitter(OpBuilder &builder, const ModelConfig &config,
               WeightNaming naming, int64_t batch)
      : builder(builder), config(config), names(getParamNames(config, naming)),
        batch(batch) {
    for (ParamSpec &spec : getParamSpecs(config, naming))
      paramShapes[spec.name] = std::move(spec.shape);
  }

  Value emitModel(Value image) {
    const int64_t width = config.hiddenSize;
    Value patches = vit::PatchEmbedOp::create(
        builder, loc("patch_embed"),
        tensorType({batch, config.numPatches(), width}), image,
        weight(names.patchKernel), weight(names.patchBias), config.patchSize,
        toDialect(config.inputLayout), toDialect(config.kernelLayout));
    Value tokens = vit::ClassPosEmbedOp::create(
        builder, loc("class_pos_embed"),
        tensorType({batch, config.numTokens(), width}), patches,
        weight(names.classToken), weight(names.positionEmbedding));
    for (size_t i = 0; i < names.blocks.size(); ++i)
      tokens = emitBlock(tokens, names.blocks[i],
                         "blocks." + std::to_string(i) + ".");
    Value normed =
        emitLayerNorm("norm", tokens, names.normWeight, names.normBias);
    return vit::ClassifierHeadOp::create(
        builder, loc("head"), tensorType({batch, config.numClasses}), normed,
        weight(names.headWeight), weight(names.headBias));
  }

private:
  /// One pre-norm encoder block: x + attn(norm1(x)), then + mlp(norm2(.)).
  Value emitBlock(Value input, const BlockParamNames &block,
                  const std::string &prefix) {
    Value normed = emitLayerNorm(prefix + "norm1", input, block.norm1Weight,
                                 block.norm1Bias);
    Value attended = vit::AttentionOp::create(
        builder, loc(prefix + "attn"), normed.getType(), normed,
        weights(block.qkvWeights), weights(block.qkvBiases),
        weight(block.projWeight), weight(block.projBias), config.numHeads);
    Value residual = vit::ResidualAddOp::create(builder, loc(prefix + "add1"),
                                                input, attended);
    normed = emitLayerNorm(prefix + "norm2", residual, block.norm2Weight,
                           block.norm2Bias);
    Value transformed = vit::MlpOp::create(
        builder, loc(prefix + "mlp"), normed.getType(), normed,
        weight(block.fc1Weight), weight(block.fc1Bias), weight(block.fc2Weight),
        weight(block.fc2Bias), toDialect(config.gelu));
    return vit::ResidualAddOp::create(builder, loc(prefix + "add2"), residual,
                                      transformed);
  }

  Value emitLayerNorm(const std::string &layer, Value input,
                      const std::string &scale, const std::string &shift) {
    return vit::LayerNormOp::create(
        builder, loc(layer), input.getType(), input, weight(scale),
        weight(shift), builder.getF64FloatAttr(config.layerNormEps));
  }

  /// A `vit.weight` for the checkpoint tensor `name`, located at its name.
  Value weight(const std::string &name) {
    auto shape = paramShapes.find(name);
    assert(shape != paramShapes.end() && "weight missing from param specs");
    return vit::WeightOp::create(builder, loc(name), tensorType(shape->second),
                                 name);
  }

  SmallVector<Value> weights(const std::vector<std::string> &weightNames) {
    SmallVector<Value> values;
    for (const std::string &name : weightNames)
      values.push_back(weight(name));
    return values;
  }

  Location loc(const std::string &name) {
    return NameLoc::get(builder.getStringAttr(name));
  }

  RankedTensorType tensorType(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }

  OpBuilder &builder;
  const ModelConfig &config;
  const ModelParamNames names;
  const int64_t batch;
  std::map<std::string, std::vector<int64_t>> paramShapes;
};

} // namespace

OwningOpRef<ModuleOp> buildViTModule(MLIRContext &context,
                                     const ModelConfig &config,
                                     WeightNaming naming, int64_t batchSize) {
  assert(!llvm::errorToBool(config.validate()) && "building an invalid config");
  context.loadDialect<vit::ViTDialect, func::FuncDialect>();
  OpBuilder builder(&context);
  Location loc = NameLoc::get(builder.getStringAttr(config.name));
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  module->getOperation()->setAttr(kModelNameAttr,
                                  builder.getStringAttr(config.name));

  SmallVector<int64_t> imageShape =
      config.inputLayout == InputLayout::NCHW
          ? SmallVector<int64_t>{batchSize, config.channels, config.imageSize,
                                 config.imageSize}
          : SmallVector<int64_t>{batchSize, config.imageSize, config.imageSize,
                                 config.channels};
  Type imageType = RankedTensorType::get(imageShape, builder.getF32Type());
  Type logitsType = RankedTensorType::get({batchSize, config.numClasses},
                                          builder.getF32Type());
  builder.setInsertionPointToEnd(module->getBody());
  auto function =
      func::FuncOp::create(builder, loc, kEntryFunctionName,
                           builder.getFunctionType(imageType, logitsType));
  builder.setInsertionPointToEnd(function.addEntryBlock());
  GraphEmitter emitter(builder, config, naming, batchSize);
  Value logits = emitter.emitModel(function.getArgument(0));
  func::ReturnOp::create(builder, loc, logits);
  return module;
}

} // namespace vitc
