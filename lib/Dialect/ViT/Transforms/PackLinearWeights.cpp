//===- PackLinearWeights.cpp - Linear weights in K-major panels -----------===//

#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Dialect/ViT/Transforms/LinearWeights.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"

namespace vitc::vit {
#define GEN_PASS_DEF_VITPACKLINEARWEIGHTSPASS
#include "vitc/Dialect/ViT/Transforms/Passes.h.inc"
} // namespace vitc::vit

using namespace mlir;
using namespace vitc::vit;

namespace {

struct ViTPackLinearWeightsPass
    : public vitc::vit::impl::ViTPackLinearWeightsPassBase<
          ViTPackLinearWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (panel < 0) {
      getOperation().emitError("vit-pack-linear-weights: panel must be 0 (one "
                               "panel) or positive, got ")
          << int64_t(panel);
      return signalPassFailure();
    }
    auto accepts = [&](RankedTensorType weight) {
      return weight.getElementType().isF32() && weight.getRank() == 2 &&
             (panel == 0 || weight.getShape()[0] % panel == 0);
    };
    // [N, K] -> [P, R, K] -> [P, K, R], evaluated at compile time.
    auto pack = [&](OpBuilder &b, Location loc, Value weight) -> Value {
      auto type = cast<RankedTensorType>(weight.getType());
      int64_t features = type.getShape()[0], reduction = type.getShape()[1];
      int64_t width = panel == 0 ? features : int64_t(panel);
      int64_t panels = features / width;
      Value split = tensor::ExpandShapeOp::create(
          b, loc,
          RankedTensorType::get({panels, width, reduction},
                                type.getElementType()),
          weight, SmallVector<ReassociationIndices>{{0, 1}, {2}});
      Value init = tensor::EmptyOp::create(
          b, loc, ArrayRef<int64_t>{panels, reduction, width},
          type.getElementType());
      return linalg::TransposeOp::create(b, loc, split, init,
                                         ArrayRef<int64_t>{0, 2, 1})
          .getResult()[0];
    };
    if (failed(rewriteLinearWeights(getOperation(), entryPoint, accepts, pack)))
      return signalPassFailure();
  }
};

} // namespace
