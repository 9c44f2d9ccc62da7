//===- Destination.cpp - Results written into output arguments ------------===//

#include "vitc/Codegen/Common/Destination.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

bool vitc::isTensorReshape(Operation *op) {
  return isa_and_nonnull<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op);
}

Value vitc::reshapeDestinationToSource(OpBuilder &b, Location loc,
                                       Operation *reshape, Value dest) {
  bool onBuffer = isa<MemRefType>(dest.getType());
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(reshape)) {
    if (onBuffer)
      return memref::CollapseShapeOp::create(b, loc, dest,
                                             expand.getReassociationIndices());
    return tensor::CollapseShapeOp::create(b, loc, expand.getSrcType(), dest,
                                           expand.getReassociationIndices());
  }
  auto collapse = cast<tensor::CollapseShapeOp>(reshape);
  if (onBuffer)
    return memref::ExpandShapeOp::create(b, loc,
                                         collapse.getSrcType().getShape(), dest,
                                         collapse.getReassociationIndices());
  return tensor::ExpandShapeOp::create(b, loc, collapse.getSrcType(), dest,
                                       collapse.getReassociationIndices());
}
