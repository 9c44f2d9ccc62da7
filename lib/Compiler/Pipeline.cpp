//===- Pipeline.cpp - The one compiler pipeline, by phase -----------------===//

#include "vitc/Compiler/Pipeline.h"

#include "vitc/Codegen/CPU/Passes.h"
#include "vitc/Conversion/Passes.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"

using namespace mlir;

namespace vitc {

std::string TargetOptions::describe() const {
  if (isCuda())
    return "cuda sm_" + std::to_string(cuda.sm) + " " +
           cuda::toString(cuda.precision);
  return cpu.describe();
}

llvm::Expected<TargetOptions> parseTarget(StringRef text, StringRef cpuName) {
  TargetOptions target;
  StringRef named = text;
  if (text == "cpu" || named.consume_front("cpu:")) {
    llvm::Expected<cpu::CpuTarget> resolved =
        cpu::resolveCpuTarget(text == "cpu" ? cpuName : named);
    if (!resolved)
      return resolved.takeError();
    target.cpu = std::move(*resolved);
    return target;
  }
  StringRef rest = text;
  int64_t sm = 0;
  if (!rest.consume_front("cuda:sm_") || rest.getAsInteger(10, sm) || sm < 50 ||
      sm > 200)
    return llvm::createStringError(
        "unknown target '" + text +
        "'; expected cpu, cpu:NAME or cuda:sm_NN (e.g. cuda:sm_90)");
  target.kind = TargetOptions::Kind::Cuda;
  target.cuda.sm = sm;
  return target;
}

void buildCompilerPipeline(OpPassManager &pm, const PipelineOptions &options) {
  // Whether the pipeline produces `phase`, i.e. runs its passes.
  auto runs = [&](Phase phase) {
    return options.first < phase && phase <= options.last;
  };
  const TargetOptions &target = options.target;
  if (runs(Phase::Fused)) {
    // Tensor-core linears compute a layer norm's statistics per block and
    // normalize their operand as they load it (vit-cuda-mma-linear), so the
    // layer norm needs no kernel of its own.
    cuda::Precision precision = target.cuda.precision;
    vit::ViTFusionPipelineOptions fusion;
    fusion.layerNormIntoLinear =
        target.isCuda() && precision != cuda::Precision::F32;
    // Elsewhere the linear runs without tensor cores, which cannot fuse it.
    fusion.layerNormIntoLinearMultiple = cuda::operandChunkElements(precision);
    vit::buildViTFusionPipeline(pm, fusion);
    // Tensor-core precisions store the linears' weights narrow; the
    // kernels' code follows from the weights' type.
    if (target.isCuda() && (precision == cuda::Precision::BF16 ||
                            precision == cuda::Precision::F16)) {
      vit::ViTNarrowLinearWeightsPassOptions narrow;
      narrow.type = precision == cuda::Precision::BF16 ? "bf16" : "f16";
      pm.addPass(vit::createViTNarrowLinearWeightsPass(narrow));
    }
    // The CPU's linears read their weights in K-major panels two vectors
    // wide: vit-cpu-vectorize's register block then loads, for each k, the
    // panel's two weight vectors, one contiguous stream per panel.
    if (!target.isCuda()) {
      vit::ViTPackLinearWeightsPassOptions pack;
      pack.panel = 2 * target.cpu.codegen.vectorWidth;
      pm.addPass(vit::createViTPackLinearWeightsPass(pack));
    }
  }
  if (runs(Phase::Linalg)) {
    pm.addPass(createEvaluateConstantsPass(options.constantsHook));
    pm.addPass(vit::createViTOutlineKernelsPass());
    pm.addPass(vit::createViTDeduplicateKernelsPass());
    // The CPU's attention lays its scores out [keys, queries]: both of its
    // contractions become outer products along contiguous vectors, like the
    // linears' (docs/codegen-cpu.md#attention).
    ConvertViTToLinalgPassOptions lowering;
    lowering.keyMajorScores = !target.isCuda();
    pm.addPass(createConvertViTToLinalgPass(lowering));
  }
  if (runs(Phase::Tiled)) {
    // The padding changes the types between kernels, so it comes before
    // the dispatches are planned from them.
    if (!target.isCuda()) {
      cpu::CpuPadRowsPassOptions padRows;
      padRows.padding = target.cpu.codegen.rowPadding;
      pm.addPass(cpu::createCpuPadRowsPass(padRows));
    }
    pm.addPass(createExtractKernelsPass(options.dispatchesHook));
  }

  if (target.isCuda()) {
    if (runs(Phase::Tiled))
      cuda::buildCudaTilingPipeline(pm, target.cuda);
    if (runs(Phase::Bufferized))
      cuda::buildCudaBufferizationPipeline(pm);
    if (runs(Phase::Ptx))
      cuda::buildCudaMapToPtxPipeline(pm, target.cuda);
    return;
  }
  if (runs(Phase::Tiled))
    cpu::buildCpuTilingPipeline(pm, target.cpu.codegen);
  if (runs(Phase::Bufferized))
    cpu::buildCpuBufferizationPipeline(pm);
  if (runs(Phase::Llvm))
    cpu::buildCpuToLLVMPipeline(pm);
}

} // namespace vitc
