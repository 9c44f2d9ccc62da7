//===- Destination.h - Results written into output arguments ----*- C++ -*-===//
//
// Both targets give kernels output arguments that the op computing a result
// writes into, and both move the reshapes between that op and the result
// onto the output instead: a reshaped view of a dense buffer is free, a
// reshape of a computed value would be a copy.
//
// The rest of the two rewrites stays per target because it happens at
// different levels. The CPU rewrites on tensors: the output argument
// replaces the tensor.empty its result's destination chain starts from, so
// bufferization writes into it with the tile loops still on tensors. CUDA
// changes the signature to memrefs (a GPU kernel returns nothing) and
// leaves it to empty-tensor elimination to find the op writing into
// bufferization.materialize_in_destination.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_CODEGEN_COMMON_DESTINATION_H
#define VITC_CODEGEN_COMMON_DESTINATION_H

#include "mlir/IR/Builders.h"

namespace vitc {

/// Whether `op` is a tensor.expand_shape or tensor.collapse_shape.
bool isTensorReshape(mlir::Operation *op);

/// Views `dest`, a destination (tensor or memref) for the result of the
/// tensor reshape `reshape`, as a destination for the reshape's source: the
/// inverse reshape of `dest`.
mlir::Value reshapeDestinationToSource(mlir::OpBuilder &b, mlir::Location loc,
                                       mlir::Operation *reshape,
                                       mlir::Value dest);

} // namespace vitc

#endif // VITC_CODEGEN_COMMON_DESTINATION_H
