//===- ViTOps.h - vit dialect operations ------------------------*- C++ -*-===//

#ifndef VITC_DIALECT_VIT_IR_VITOPS_H
#define VITC_DIALECT_VIT_IR_VITOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <string>

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

/// The function symbol of a kernel named `kernelName`, one every target's
/// object format accepts: "blocks.0.attn.qkv" -> "blocks_0_attn_qkv", a
/// shared "blocks.*.mlp.fc1" -> "blocks_N_mlp_fc1", "blocks.11.attn.qkv[0:768]"
/// -> "blocks_11_attn_qkv_0_768".
std::string kernelSymbol(llvm::StringRef kernelName);

} // namespace vitc::vit

#endif // VITC_DIALECT_VIT_IR_VITOPS_H
