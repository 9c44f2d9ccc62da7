//===- MathToIntrinsics.cpp - f32 math on NVPTX without libdevice ---------===//

#include "vitc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc::cuda {
#define GEN_PASS_DEF_CUDAMATHTOINTRINSICSPASS
#include "vitc/Codegen/CUDA/Passes.h.inc"
} // namespace vitc::cuda

using namespace mlir;
using namespace vitc::cuda;

/// A call of an f32 intrinsic as a generic call: convert-gpu-to-nvvm
/// declares the dedicated llvm.intr.* ops illegal.
static Value callIntrinsic(PatternRewriter &rewriter, Location loc,
                           StringRef name, Value x) {
  return LLVM::CallIntrinsicOp::create(rewriter, loc, x.getType(),
                                       rewriter.getStringAttr(name), x)
      .getResult(0);
}

namespace {

template <typename MathOp> struct IntrinsicLowering : OpRewritePattern<MathOp> {
  IntrinsicLowering(MLIRContext *ctx, StringRef intrinsic)
      : OpRewritePattern<MathOp>(ctx), intrinsic(intrinsic) {}

  LogicalResult matchAndRewrite(MathOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return failure();
    rewriter.replaceOp(
        op, callIntrinsic(rewriter, op.getLoc(), intrinsic, op.getOperand()));
    return success();
  }

  StringRef intrinsic;
};

struct RsqrtLowering : OpRewritePattern<math::RsqrtOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::RsqrtOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return failure();
    Location loc = op.getLoc();
    Value one = arith::ConstantOp::create(rewriter, loc,
                                          rewriter.getF32FloatAttr(1.0f));
    rewriter.replaceOpWithNewOp<arith::DivFOp>(
        op, one,
        callIntrinsic(rewriter, loc, "llvm.sqrt.f32", op.getOperand()));
    return success();
  }
};

struct CudaMathToIntrinsicsPass
    : vitc::cuda::impl::CudaMathToIntrinsicsPassBase<CudaMathToIntrinsicsPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<IntrinsicLowering<math::SqrtOp>>(ctx, "llvm.sqrt.f32");
    patterns.add<IntrinsicLowering<math::FloorOp>>(ctx, "llvm.floor.f32");
    patterns.add<IntrinsicLowering<math::CeilOp>>(ctx, "llvm.ceil.f32");
    // From the tanh approximation (tanh GELU).
    patterns.add<IntrinsicLowering<math::AbsFOp>>(ctx, "llvm.fabs.f32");
    // From flash attention's softmax: ex2.approx.f32 (relative error at
    // most 2^-22, PTX ISA), the instruction its exponentials are made for.
    patterns.add<IntrinsicLowering<math::Exp2Op>>(ctx,
                                                  "llvm.nvvm.ex2.approx.f32");
    patterns.add<RsqrtLowering>(ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
