//===- InitAllDialects.h - Every dialect vitc's IR can contain --*- C++ -*-===//

#ifndef VITC_INITALLDIALECTS_H
#define VITC_INITALLDIALECTS_H

#include "vitc/Dialect/ViT/IR/ViTDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

namespace vitc {

/// Registers the dialects that appear at any phase of vitc's pipeline, so
/// that the IR printed after any phase can be read back.
inline void registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<vit::ViTDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::linalg::LinalgDialect,
                  mlir::math::MathDialect, mlir::tensor::TensorDialect>();
}

} // namespace vitc

#endif // VITC_INITALLDIALECTS_H
