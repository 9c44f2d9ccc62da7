//===- Passes.h - Passes where the compiler driver takes over ---*- C++ -*-===//

#ifndef VITC_COMPILER_PASSES_H
#define VITC_COMPILER_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

#include <functional>
#include <memory>

namespace vitc {

/// Receives the constants function (to evaluate it on the weights).
using ConstantsHook = std::function<mlir::LogicalResult(mlir::func::FuncOp)>;
/// Receives the entry function, a list of kernel calls (to plan it).
using DispatchesHook = std::function<mlir::LogicalResult(mlir::func::FuncOp)>;

#define GEN_PASS_DECL
#include "vitc/Compiler/Passes.h.inc"

/// The passes with their hooks; an empty hook is not called.
std::unique_ptr<mlir::Pass> createEvaluateConstantsPass(ConstantsHook hook);
std::unique_ptr<mlir::Pass> createExtractKernelsPass(DispatchesHook hook);

#define GEN_PASS_REGISTRATION
#include "vitc/Compiler/Passes.h.inc"

} // namespace vitc

#endif // VITC_COMPILER_PASSES_H
