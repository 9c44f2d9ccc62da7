//===- NarrowLinearWeights.cpp - Linear weights in bf16 or f16 ------------===//

#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Dialect/ViT/Transforms/LinearWeights.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"

namespace vitc::vit {
#define GEN_PASS_DEF_VITNARROWLINEARWEIGHTSPASS
#include "vitc/Dialect/ViT/Transforms/Passes.h.inc"
} // namespace vitc::vit

using namespace mlir;
using namespace vitc::vit;

namespace {

/// Tensor-core kernels copy weight rows in 16-byte pieces of 8 elements.
constexpr int64_t kReductionMultiple = 8;

struct ViTNarrowLinearWeightsPass
    : public vitc::vit::impl::ViTNarrowLinearWeightsPassBase<
          ViTNarrowLinearWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder builder(&getContext());
    Type narrow = type == "bf16"  ? Type(builder.getBF16Type())
                  : type == "f16" ? Type(builder.getF16Type())
                                  : Type();
    if (!narrow) {
      module.emitError("vit-narrow-linear-weights: unknown type '")
          << type << "'; expected bf16 or f16";
      return signalPassFailure();
    }
    auto accepts = [](RankedTensorType weight) {
      return weight.getElementType().isF32() && weight.getRank() == 2 &&
             weight.getShape()[1] % kReductionMultiple == 0;
    };
    // The constants function rounds the weight; the kernels receive it
    // narrow.
    auto round = [&](OpBuilder &b, Location loc, Value weight) -> Value {
      auto type = cast<RankedTensorType>(weight.getType());
      return arith::TruncFOp::create(
          b, loc, RankedTensorType::get(type.getShape(), narrow), weight);
    };
    if (failed(rewriteLinearWeights(module, entryPoint, accepts, round)))
      return signalPassFailure();
  }
};

} // namespace
