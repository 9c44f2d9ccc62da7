//===- FoldReshapes.cpp - Reshapes between linalg ops folded away ---------===//
//
// Tile-and-fuse fuses a producer into the tile of its consumer only when it
// can follow the tile's slice to it. A linear computes its matmul on
// [M, N] and its epilogue on the expanded [batch, tokens, N]; collapsing the
// epilogue to [M, N] lets the two share their tiles.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc::cuda {
#define GEN_PASS_DEF_CUDAFOLDRESHAPESPASS
#include "vitc/Codegen/CUDA/Passes.h.inc"
} // namespace vitc::cuda

using namespace mlir;
using namespace vitc;

namespace {

struct CudaFoldReshapesPass
    : vitc::cuda::impl::CudaFoldReshapesPassBase<CudaFoldReshapesPass> {
  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    if (!isKernelFunction(kernel))
      return;
    RewritePatternSet patterns(&getContext());
    // Only expand_shapes between two linalg ops: reshapes of inputs are free
    // views, and collapsing an op for them would only add index arithmetic.
    linalg::populateFoldReshapeOpsByCollapsingPatterns(
        patterns, [](OpOperand *operand) {
          auto expand = operand->get().getDefiningOp<tensor::ExpandShapeOp>();
          return expand && isa<linalg::GenericOp>(operand->getOwner()) &&
                 expand.getSrc().getDefiningOp<linalg::LinalgOp>();
        });
    tensor::populateReassociativeReshapeFoldingPatterns(patterns);
    if (failed(applyPatternsGreedily(kernel, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
