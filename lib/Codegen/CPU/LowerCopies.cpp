//===- LowerCopies.cpp - memref.copy as linalg.copy -----------------------===//

#include "vitc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace vitc::cpu {
#define GEN_PASS_DEF_CPULOWERCOPIESPASS
#include "vitc/Codegen/CPU/Passes.h.inc"
} // namespace vitc::cpu

using namespace mlir;

namespace {

struct CpuLowerCopiesPass
    : public vitc::cpu::impl::CpuLowerCopiesPassBase<CpuLowerCopiesPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    getOperation().walk([&](memref::CopyOp copy) {
      rewriter.setInsertionPoint(copy);
      rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                  copy.getTarget());
    });
  }
};

} // namespace
