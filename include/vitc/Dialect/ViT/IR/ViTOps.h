//===- ViTOps.h - vit dialect operations ------------------------*- C++ -*-===//

#ifndef VITC_DIALECT_VIT_IR_VITOPS_H
#define VITC_DIALECT_VIT_IR_VITOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "vitc/Dialect/ViT/IR/ViTDialect.h"
#include "vitc/Support/KernelContract.h"

#include "vitc/Dialect/ViT/IR/ViTInterfaces.h.inc"

#define GET_OP_CLASSES
#include "vitc/Dialect/ViT/IR/ViTOps.h.inc"

namespace vitc::vit {

/// Whether `value` is computed from `vit.weight`s alone (looking through
/// vit.kernel arguments), i.e. is compile-time work on parameters rather
/// than something computed per image.
bool isWeightOnly(mlir::Value value);

} // namespace vitc::vit

#endif // VITC_DIALECT_VIT_IR_VITOPS_H
