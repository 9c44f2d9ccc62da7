//===- KernelCompiler.h - Kernel functions to an ELF shared object -*- C++ -*-//
//
// The CPU back end: outlined kernel functions in linalg form become one
// shared object that exports each kernel under the bindings calling
// convention (docs/codegen-cpu.md):
//
//   void <symbol>(void *const *bindings, int64_t tile_begin, int64_t tile_end)
//
// bindings[i] points to the dense row-major f32 data of the kernel's i-th
// input; the bindings after the inputs point to its outputs, allocated by
// the caller and disjoint from the inputs. A call computes the tiles
// [tile_begin, tile_end) of [0, numTiles); tiles are independent, so ranges
// may run concurrently on different threads. The object needs only libc
// (malloc and free for temporaries, and the mem* functions).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_CODEGEN_CPU_KERNELCOMPILER_H
#define VITC_CODEGEN_CPU_KERNELCOMPILER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/LogicalResult.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vitc::cpu {

struct CpuOptions {
  /// LLVM CPU name and feature string to generate code for. "host" uses the
  /// machine running the compiler (with AVX-512 where it has it) and ignores
  /// `features`; e.g. "x86-64" with no features is a portable baseline.
  std::string cpu = "host";
  std::string features;
  /// Tile shape, see vit-cpu-tile-kernels.
  int64_t rowsPerTile = 32;
  int64_t columnsPerTile = 128;
  /// LLVM optimization level, 0 to 3.
  unsigned optLevel = 3;
};

/// One exported kernel.
struct CompiledKernel {
  std::string symbol;
  int64_t numTiles;
};

struct CpuCompileResult {
  std::vector<uint8_t> sharedObject;
  /// One entry per kernel function, in module order.
  std::vector<CompiledKernel> kernels;
};

/// Compiles `kernels`, a module holding only kernel functions (tensors in,
/// tensors out, a `vit.kernel_name` attribute) already lowered to linalg,
/// into an x86-64 ELF shared object. `kernels` is not modified. On failure
/// returns failure and sets `error` to the diagnostics.
llvm::FailureOr<CpuCompileResult>
compileKernelsForCpu(mlir::ModuleOp kernels, const CpuOptions &options,
                     std::string &error);

} // namespace vitc::cpu

#endif // VITC_CODEGEN_CPU_KERNELCOMPILER_H
