//===- Passes.h - vitc conversion passes ------------------------*- C++ -*-===//

#ifndef VITC_CONVERSION_PASSES_H
#define VITC_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace vitc {

#define GEN_PASS_DECL
#include "vitc/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "vitc/Conversion/Passes.h.inc"

} // namespace vitc

#endif // VITC_CONVERSION_PASSES_H
