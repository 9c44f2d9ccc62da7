//===- Serialize.h - The CPU target and its shared object -------*- C++ -*-===//
//
// The CPU back end ends in a shared object that exports each kernel under
// the bindings calling convention (docs/codegen-cpu.md):
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
// The pipeline (vitc/Compiler/Pipeline.h) produces the LLVM dialect; this
// file resolves the target both read and serializes the result.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_CODEGEN_CPU_SERIALIZE_H
#define VITC_CODEGEN_CPU_SERIALIZE_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vitc::cpu {

/// Tiling and vectorization choices of the CPU pipeline.
struct CpuCodegenOptions {
  /// Tile shape, see vit-cpu-tile-kernels. 24 rows make whole register
  /// blocks of the linears' outer products: 6 rows with AVX2, 12 with
  /// AVX-512 (vit-cpu-vectorize).
  int64_t rowsPerTile = 24;
  int64_t columnsPerTile = 128;
  /// f32 lanes of the widest vector registers the target has.
  int64_t vectorWidth = 16;
  /// Bytes added to activation rows a multiple of 4 KiB long, see
  /// vit-cpu-pad-rows (0: none).
  int64_t rowPadding = 64;
};

/// A CPU to generate code for, resolved once so that the pipeline and the
/// object emission agree on it.
struct CpuTarget {
  /// LLVM CPU name and feature string (by default the x86-64 baseline,
  /// SSE2: 4 f32 lanes).
  std::string cpu = "x86-64";
  std::string features;
  /// Every LLVM target feature the CPU and `features` enable ("avx2",
  /// "fma", ...): what the object code may use.
  std::vector<std::string> enabledFeatures;
  /// The widest vector extension the features enable, for reports.
  std::string vectorExtension = "SSE2";
  /// LLVM optimization level, 0 to 3.
  unsigned optLevel = 3;
  CpuCodegenOptions codegen = {/*rowsPerTile=*/24, /*columnsPerTile=*/128,
                               /*vectorWidth=*/4};

  /// "znver3 (AVX2, 8 f32 lanes)".
  std::string describe() const;
};

/// Resolves an LLVM CPU name: "host" is the machine running the compiler
/// (its name and features as LLVM detects them); any other name (e.g.
/// "x86-64-v3", "sapphirerapids") takes that CPU's default features. The
/// vector width follows the features: 16 with AVX-512, 8 with AVX, else 4.
llvm::Expected<CpuTarget> resolveCpuTarget(llvm::StringRef cpuName);

/// One exported kernel.
struct CompiledKernel {
  std::string symbol;
  int64_t numTiles;
};

struct CpuObject {
  std::vector<uint8_t> sharedObject;
  /// One entry per exported kernel, in module order.
  std::vector<CompiledKernel> kernels;
};

/// Translates `module`, the end of the CPU pipeline (LLVM dialect with the
/// kernels' entry points), to LLVM IR, optimizes it, emits object code for
/// `target` and links it into a shared object.
llvm::Expected<CpuObject> serializeCpuKernels(mlir::ModuleOp module,
                                              const CpuTarget &target);

} // namespace vitc::cpu

#endif // VITC_CODEGEN_CPU_SERIALIZE_H
