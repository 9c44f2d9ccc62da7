//===- Pipelines.cpp - CUDA code generation pipelines ---------------------===//

#include "vitc/Codegen/CUDA/CudaCodegen.h"
#include "vitc/Codegen/CUDA/Passes.h"
#include "vitc/Codegen/CUDA/TensorCore.h"
#include "vitc/Codegen/Common/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace vitc::cuda;

const char *vitc::cuda::toString(Precision precision) {
  switch (precision) {
  case Precision::F32:
    return "fp32";
  case Precision::TF32:
    return "tf32";
  case Precision::BF16:
    return "bf16";
  case Precision::F16:
    return "fp16";
  }
  llvm_unreachable("unknown precision");
}

int64_t vitc::cuda::operandChunkElements(Precision precision) {
  switch (precision) {
  case Precision::F32:
    return 1;
  case Precision::TF32:
    return kChunkBytes / 4;
  case Precision::BF16:
  case Precision::F16:
    return kChunkBytes / 2;
  }
  llvm_unreachable("unknown precision");
}

std::optional<Precision> vitc::cuda::parsePrecision(StringRef text) {
  for (Precision precision :
       {Precision::F32, Precision::TF32, Precision::BF16, Precision::F16})
    if (text == toString(precision))
      return precision;
  return std::nullopt;
}

void vitc::cuda::buildCudaTilingPipeline(OpPassManager &pm,
                                         const CudaOptions &options) {
  // Kernels into a form that tiles into one launch, evaluating the same
  // formulas as the CPU emulation and needing no libdevice; sqrt and rsqrt
  // stay for vit-cuda-math-to-intrinsics.
  OpPassManager &kernels = pm.nest<func::FuncOp>();
  kernels.addPass(createCudaGatherDataMovementPass());
  kernels.addPass(createCudaFoldReshapesPass());
  ApproximateMathPassOptions approximateMath;
  approximateMath.functions = {"exp", "erf", "tanh"};
  approximateMath.kernelsOnly = true;
  kernels.addPass(createApproximateMathPass(approximateMath));
  pm.addPass(createCudaDestinationAbiPass());
  // Linears with narrow weights get their tensor-core schedule first, and
  // with a tensor-core precision so does attention; the SIMT tiling then
  // skips them.
  CudaMmaLinearPassOptions mma;
  mma.sm = options.sm;
  mma.tf32 = options.precision == Precision::TF32;
  pm.addNestedPass<func::FuncOp>(createCudaMmaLinearPass(mma));
  if (options.precision == Precision::BF16 ||
      options.precision == Precision::F16) {
    CudaFlashAttentionPassOptions flash;
    flash.precision = options.precision == Precision::BF16 ? "bf16" : "f16";
    pm.addNestedPass<func::FuncOp>(createCudaFlashAttentionPass(flash));
  }
  CudaTileAndDistributePassOptions tiling;
  tiling.sm = options.sm;
  tiling.maxTile = options.maxTile;
  pm.addNestedPass<func::FuncOp>(createCudaTileAndDistributePass(tiling));
}

void vitc::cuda::buildCudaBufferizationPipeline(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createCudaBufferizePass());
}

void vitc::cuda::buildCudaSchedulePipeline(OpPassManager &pm,
                                           const CudaOptions &options) {
  buildCudaTilingPipeline(pm, options);
  buildCudaBufferizationPipeline(pm);
}

/// Loops and index arithmetic to the LLVM-level ops both targets share.
static void buildLoopLowering(OpPassManager &pm) {
  // Strided metadata expands into affine.apply, so it goes first.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(affine::createAffineExpandIndexOpsPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
}

void vitc::cuda::buildCudaMapToPtxPipeline(OpPassManager &pm,
                                           const CudaOptions &options) {
  pm.addPass(createCudaMapToGpuPass());
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addNestedPass<gpu::GPUFuncOp>(createConvertLinalgToLoopsPass());
  kernels.addPass(createCudaFuseMultiplyAddPass());
  buildLoopLowering(kernels);
  // The math left after the polynomial approximations becomes LLVM
  // intrinsics: IEEE square roots like the CPU's, and no libdevice.
  kernels.addPass(createCudaMathToIntrinsicsPass());
  kernels.addPass(createConvertMathToLLVMPass());
  // Tensor-core kernels: nvgpu's ldmatrix and cp.async to NVVM
  // (convert-gpu-to-nvvm lowers the vectors around them).
  kernels.addPass(createConvertNVGPUToNVVMPass());
  // Kernel parameters are bare pointers: the ABI the runtime launches with.
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.useBarePtrCallConv = true;
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = "sm_" + std::to_string(options.sm);
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void vitc::cuda::buildCudaToPtxPipeline(OpPassManager &pm,
                                        const CudaOptions &options) {
  buildCudaSchedulePipeline(pm, options);
  buildCudaMapToPtxPipeline(pm, options);
}

void vitc::cuda::buildGpuScheduleForCpuEmulation(OpPassManager &pm,
                                                 const CudaOptions &options) {
  buildCudaSchedulePipeline(pm, options);
  pm.addNestedPass<func::FuncOp>(createCudaDropWorkgroupMemoryPass());
  pm.addPass(createForallToForLoopPass());
  // The code calling the kernels is still on tensors.
  bufferization::OneShotBufferizePassOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferization));
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  buildLoopLowering(pm);
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

namespace {

struct CudaPipelineOptions : PassPipelineOptions<CudaPipelineOptions> {
  Option<int64_t> sm{*this, "sm",
                     llvm::cl::desc("Compute capability times ten"),
                     llvm::cl::init(80)};
  Option<int64_t> maxTile{
      *this, "max-tile",
      llvm::cl::desc("Testing: cap block tile sizes (0: no cap)"),
      llvm::cl::init(0)};
  Option<Precision> precision{
      *this, "precision",
      llvm::cl::desc("What attention computes in, and with tf32 the f32 "
                     "linears (others follow their weights' type)"),
      llvm::cl::init(Precision::F32),
      llvm::cl::values(clEnumValN(Precision::F32, "fp32", "SIMT fp32"),
                       clEnumValN(Precision::TF32, "tf32",
                                  "linears with f32 weights on tf32 tensor "
                                  "cores, attention SIMT fp32"),
                       clEnumValN(Precision::BF16, "bf16",
                                  "flash attention on bf16 tensor cores"),
                       clEnumValN(Precision::F16, "fp16",
                                  "flash attention on fp16 tensor cores"))};

  CudaOptions get() const {
    CudaOptions options;
    options.sm = sm;
    options.maxTile = maxTile;
    options.precision = precision;
    return options;
  }
};

template <void (*Build)(OpPassManager &, const CudaOptions &)>
void registerPipeline(StringRef name, StringRef description) {
  PassPipelineRegistration<CudaPipelineOptions>(
      name, description,
      [](OpPassManager &pm, const CudaPipelineOptions &options) {
        Build(pm, options.get());
      });
}

} // namespace

void vitc::cuda::registerCudaPipelines() {
  registerPipeline<buildCudaSchedulePipeline>(
      "vit-cuda-schedule",
      "Kernel functions to the target-neutral GPU schedule");
  registerPipeline<buildCudaToPtxPipeline>(
      "vit-cuda-to-ptx", "Kernel functions to PTX in gpu.module @vit_kernels");
  registerPipeline<buildGpuScheduleForCpuEmulation>(
      "vit-cuda-emulate-on-cpu",
      "Kernel functions scheduled for the GPU, run sequentially on the CPU");
}
