//===- CudaCodegen.h - Kernel functions to PTX and cubin --------*- C++ -*-===//
//
// The CUDA back end: the stages of its pipeline (the compiler pipeline,
// vitc/Compiler/Pipeline.h, runs them in order), the same schedule run on
// the CPU to check numerics without a GPU, and the serialization of the
// pipeline's result (PTX, launch configurations, ptxas).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_CODEGEN_CUDA_CUDACODEGEN_H
#define VITC_CODEGEN_CUDA_CUDACODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vitc::cuda {

/// What the matmuls of a model compute in (`vitc --precision`). fp32: SIMT
/// FMAs; bf16 and fp16: weights stored in that type and tensor-core MMAs
/// on operands rounded to it, accumulating in fp32. Everything else
/// (normalization, softmax, the residual stream) stays fp32.
enum class Precision { F32, TF32, BF16, F16 };

/// "fp32", "tf32", "bf16", "fp16": the names of --precision.
const char *toString(Precision precision);
/// Elements of a tensor-core linear's operands per 16-byte copy (4 of tf32,
/// 8 of bf16 or fp16): the linears take tensor cores only where their K is
/// a multiple of it. 1 for fp32, which has no tensor-core linears.
int64_t operandChunkElements(Precision precision);
std::optional<Precision> parsePrecision(llvm::StringRef text);

struct CudaOptions {
  /// Compute capability times ten: 80 (A100, sm_80), 90 (H100, sm_90).
  int64_t sm = 80;
  Precision precision = Precision::F32;
  /// ptxas used to assemble the PTX; empty: search PATH, then
  /// /usr/local/cuda/bin. Without ptxas there is no cubin and no report.
  std::string ptxasPath;
  /// Testing: caps every block tile size (0: no cap), so that small shapes
  /// get many blocks and partial tiles.
  int64_t maxTile = 0;
};

/// How to launch one kernel of the PTX module.
struct LaunchInfo {
  /// Entry name in the PTX and cubin. Its parameters are one global f32
  /// pointer per kernel input, then one per output, in the kernel
  /// function's order; the kernel writes every element of its outputs.
  std::string symbol;
  int64_t grid[3] = {1, 1, 1};
  int64_t block[3] = {1, 1, 1};
  /// Dynamic shared memory to pass at launch. Zero: the kernels declare
  /// their shared memory statically.
  int64_t sharedMemoryBytes = 0;
  /// Shared memory the kernel declares (part of the occupancy budget).
  int64_t staticSharedMemoryBytes = 0;
  /// From `ptxas -v`; -1 where ptxas did not run.
  int64_t registers = -1;
  /// The schedule (vit.cuda.kernel_kind, block_tile, pipeline_stages).
  std::string kind;
  std::vector<int64_t> blockTile;
  int64_t pipelineStages = 1;
  int64_t spillStoreBytes = -1;
  int64_t spillLoadBytes = -1;
};

struct CudaCompileResult {
  /// One PTX module with an entry per kernel.
  std::string ptx;
  /// The PTX assembled by ptxas for the target; empty without ptxas.
  std::vector<uint8_t> cubin;
  std::vector<LaunchInfo> kernels;
  /// ptxas's `-v` output (registers, spills, shared memory per kernel).
  std::string ptxasReport;
};

/// The schedule's first part, on tensors: normalize, destination ABI, tile
/// to blocks and threads.
void buildCudaTilingPipeline(mlir::OpPassManager &pm,
                             const CudaOptions &options);

/// The schedule's second part: bufferization. Every kernel function ends as
/// memref code with block and thread `scf.forall` loops and workgroup-memory
/// buffers.
void buildCudaBufferizationPipeline(mlir::OpPassManager &pm);

/// The scheduled kernels mapped to the GPU, lowered to NVVM and PTX: host
/// functions launching the kernels and a `gpu.binary @vit_kernels` with the
/// PTX of every kernel.
void buildCudaMapToPtxPipeline(mlir::OpPassManager &pm,
                               const CudaOptions &options);

/// Target-neutral schedule: the tiling and bufferization stages.
void buildCudaSchedulePipeline(mlir::OpPassManager &pm,
                               const CudaOptions &options);

/// All three stages: kernel functions to PTX.
void buildCudaToPtxPipeline(mlir::OpPassManager &pm,
                            const CudaOptions &options);

/// The same schedule, run sequentially on the CPU: workgroup memory becomes
/// host memory, the block and thread loops become `scf.for` (so sibling
/// thread loops run one after the other, as a barrier orders them on the
/// GPU), then everything, including the code calling the kernels, is
/// lowered to the LLVM dialect for mlir-runner or the ExecutionEngine.
void buildGpuScheduleForCpuEmulation(mlir::OpPassManager &pm,
                                     const CudaOptions &options);

/// The PTX of the end of the CUDA pipeline (`gpu.binary @vit_kernels`).
llvm::Expected<std::string> readPtx(mlir::ModuleOp module);

/// Reads the end of the CUDA pipeline, `module` (host functions launching
/// the kernels and `gpu.binary @vit_kernels`): the PTX and every kernel's
/// launch configuration; then assembles the PTX with ptxas where it is
/// found (options.ptxasPath, PATH, /usr/local/cuda/bin).
llvm::Expected<CudaCompileResult>
serializeCudaKernels(mlir::ModuleOp module, const CudaOptions &options);

/// Registers `vit-cuda-schedule`, `vit-cuda-to-ptx` and
/// `vit-cuda-emulate-on-cpu` (each with an `sm` option).
void registerCudaPipelines();

/// Resource usage of one kernel, from `ptxas -v`.
struct PtxasKernelStats {
  int64_t registers = 0;
  int64_t spillStoreBytes = 0;
  int64_t spillLoadBytes = 0;
  int64_t stackFrameBytes = 0;
  int64_t sharedMemoryBytes = 0;
};

struct PtxasResult {
  std::vector<uint8_t> cubin;
  /// ptxas's `-v` output.
  std::string report;
  /// The statistics of every kernel, by entry name.
  llvm::StringMap<PtxasKernelStats> stats;
};

/// Runs `ptxas -v` on `ptx` for `sm_<sm>`. Fails with ptxas's report if
/// ptxas fails.
llvm::Expected<PtxasResult> assembleWithPtxas(llvm::StringRef ptxas,
                                              llvm::StringRef ptx, int64_t sm);

/// The ptxas to use: `path` if not empty, else from PATH or
/// /usr/local/cuda/bin; empty if none is found.
std::string findPtxas(llvm::StringRef path);

} // namespace vitc::cuda

#endif // VITC_CODEGEN_CUDA_CUDACODEGEN_H
