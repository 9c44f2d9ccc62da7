//===- Passes.h - Code generation passes of all targets ---------*- C++ -*-===//

#ifndef VITC_CODEGEN_COMMON_PASSES_H
#define VITC_CODEGEN_COMMON_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace vitc {

#define GEN_PASS_DECL
#include "vitc/Codegen/Common/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "vitc/Codegen/Common/Passes.h.inc"

} // namespace vitc

#endif // VITC_CODEGEN_COMMON_PASSES_H
