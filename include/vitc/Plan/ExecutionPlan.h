//===- ExecutionPlan.h - Dispatch order, bindings and memory plan -*- C++ -*-//

#ifndef VITC_PLAN_EXECUTIONPLAN_H
#define VITC_PLAN_EXECUTIONPLAN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vitc {

/// Where a kernel operand lives at run time.
struct PlannedBinding {
  enum class Kind { Input, Output, Constant, Arena };
  Kind kind;
  /// Input, output or constant number (unused for the arena).
  int64_t index = 0;
  /// Byte range in the arena (arena bindings) or the whole tensor.
  int64_t offset = 0;
  int64_t size = 0;
};

struct PlannedDispatch {
  /// The called kernel function.
  std::string symbol;
  /// Kernel inputs in order, then the output.
  std::vector<PlannedBinding> bindings;
};

/// A kernel function the dispatches call, as its attributes describe it.
struct PlannedKernel {
  std::string symbol;
  /// `vit.kernel_name` ("blocks.*.mlp.fc1").
  std::string name;
  /// `vit.multiply_accumulates` of one call (0 if absent).
  int64_t multiplyAccumulates = 0;
  /// Bytes of each argument, then of the result, as the function's type
  /// declares them: the signature every dispatch of it must match.
  std::vector<int64_t> bindingBytes;
  int64_t dispatches = 0;
};

struct ExecutionPlan {
  std::vector<PlannedDispatch> dispatches;
  /// The distinct kernels, in order of first dispatch.
  std::vector<PlannedKernel> kernels;
  /// Bytes of the one arena holding every intermediate tensor.
  int64_t arenaBytes = 0;
  /// What the arena would need without reuse, for the compile report.
  int64_t unplannedBytes = 0;
};

/// Alignment of every arena buffer: enough for AVX-512 loads and for
/// coalesced GPU accesses.
inline constexpr int64_t kArenaAlignment = 256;

/// Plans an entry function whose body is a sequence of `func.call`s to
/// kernel functions (see vit-outline-kernels) followed by a return. Each
/// intermediate tensor gets an arena range; ranges are reused once the last
/// kernel reading a tensor has run (first fit by liveness). Reports an
/// error on the offending op if the function has another shape.
mlir::FailureOr<ExecutionPlan> planExecution(mlir::func::FuncOp entry);

} // namespace vitc

#endif // VITC_PLAN_EXECUTIONPLAN_H
