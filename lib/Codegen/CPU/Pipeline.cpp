//===- Pipeline.cpp - Kernel functions to LLVM dialect --------------------===//

#include "vitc/Codegen/CPU/Passes.h"
#include "vitc/Codegen/Common/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void vitc::cpu::buildCpuTilingPipeline(OpPassManager &pm,
                                       const CpuCodegenOptions &options) {
  // Tiles, the calling convention and vectors, on tensors.
  OpPassManager &kernels = pm.nest<func::FuncOp>();
  // Attention's query rows are its vectors: two per register block row,
  // as the linears' panels (32 rows with AVX-512, 16 with AVX2).
  kernels.addPass(createCpuTileKernelsPass(
      {options.rowsPerTile, options.columnsPerTile, 2 * options.vectorWidth}));
  kernels.addPass(createCpuOutputArgumentsPass());
  kernels.addPass(createCpuTileRangePass());
  // Tile sizes that became constants make the tiles' types static.
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCpuVectorizePass({options.vectorWidth}));
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createLoopInvariantSubsetHoistingPass());
  // Hoisted accumulators start from the vector just written as their
  // initial value; folding that removes their temporaries.
  kernels.addPass(createCanonicalizerPass());
}

void vitc::cpu::buildCpuBufferizationPipeline(OpPassManager &pm) {
  // MLIR's standard set of approximations; rsqrt becomes 1 / sqrt, sqrt
  // itself being an instruction.
  ApproximateMathPassOptions approximateMath;
  approximateMath.expand = {"rsqrt"};
  pm.addPass(createApproximateMathPass(approximateMath));

  // Buffers: every result is written in place into its output argument,
  // whose now redundant return value is dropped; temporaries are freed.
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Loops yielding their buffer argument fold away, so results become the
  // output arguments themselves.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(bufferization::createDropEquivalentBufferResultsPass());
  bufferization::buildBufferDeallocationPipeline(pm);
}

void vitc::cpu::buildCpuToLLVMPipeline(OpPassManager &pm) {
  // Loops and 1-d vectors, then LLVM.
  OpPassManager &lowering = pm.nest<func::FuncOp>();
  lowering.addPass(createCpuLowerCopiesPass());
  lowering.addPass(createConvertLinalgToLoopsPass());
  lowering.addPass(vector::createLowerVectorMultiReductionPass(
      vector::VectorMultiReductionLowering::InnerReduction));
  lowering.addPass(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().enableFullUnroll()));
  lowering.addPass(createCanonicalizerPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.reassociateFPReductions = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions funcToLLVM;
  funcToLLVM.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcToLLVM));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCpuEmitEntryPointsPass());
  pm.addPass(createCanonicalizerPass());
}

void vitc::cpu::registerCpuCodegenPipeline() {
  PassPipelineRegistration<CpuPipelineOptions>(
      "vit-cpu-codegen-pipeline",
      "Compile kernel functions (linalg on tensors) to LLVM dialect with one "
      "exported entry point per kernel",
      [](OpPassManager &pm, const CpuPipelineOptions &options) {
        buildCpuTilingPipeline(pm, {options.rowsPerTile, options.columnsPerTile,
                                    options.vectorWidth});
        buildCpuBufferizationPipeline(pm);
        buildCpuToLLVMPipeline(pm);
      });
}
