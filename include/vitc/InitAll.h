//===- InitAll.h - Everything vitc registers, in one place ------*- C++ -*-===//
//
// The tools (vitc, vitc-opt) and the tests call these instead of listing
// dialects and passes themselves, so that IR printed after any pass of the
// pipeline can be read back and any pass can be named on a command line
// (--mlir-print-ir-after=<pass>).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_INITALL_H
#define VITC_INITALL_H

#include "mlir/IR/DialectRegistry.h"

namespace vitc {

/// The vit dialect, every upstream dialect and extension the code
/// generators use (with their interface models: tiling, bufferization,
/// value bounds, conversion to LLVM) and the translations to LLVM IR and
/// NVVM.
void registerAllDialects(mlir::DialectRegistry &registry);

/// vitc's passes and pipelines and upstream's passes.
void registerAllPasses();

} // namespace vitc

#endif // VITC_INITALL_H
