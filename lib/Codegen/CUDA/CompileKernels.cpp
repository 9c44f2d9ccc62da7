//===- CompileKernels.cpp - Kernel functions to PTX and cubin -------------===//

#include "vitc/Codegen/CUDA/CudaCodegen.h"
#include "vitc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/GPU/IR/CompilationInterfaces.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"

using namespace mlir;
using namespace vitc::cuda;

void vitc::cuda::registerCudaCodegenDialects(DialectRegistry &registry) {
  // The pipelines touch most of upstream's code generation dialects and
  // rely on their interface models (tiling, bufferization, value bounds,
  // conversion to LLVM, the NVVM target); registering all of them keeps
  // this list from drifting behind the pipelines.
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
}

std::string vitc::cuda::findPtxas(StringRef path) {
  if (!path.empty())
    return path.str();
  if (llvm::ErrorOr<std::string> found = llvm::sys::findProgramByName("ptxas"))
    return *found;
  if (llvm::ErrorOr<std::string> found =
          llvm::sys::findProgramByName("ptxas", {"/usr/local/cuda/bin"}))
    return *found;
  return "";
}

/// Reads the per-kernel lines of `ptxas -v`:
///   ptxas info : Compiling entry function 'k' for 'sm_80'
///   ptxas info : Function properties for k
///       0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
///   ptxas info : Used 40 registers, used 1 barriers, 2048 bytes smem, ...
static void parsePtxasReport(StringRef report,
                             llvm::StringMap<PtxasKernelStats> &stats) {
  llvm::Regex entry("Compiling entry function '([^']+)'");
  llvm::Regex frame("([0-9]+) bytes stack frame, ([0-9]+) bytes spill stores, "
                    "([0-9]+) bytes spill loads");
  llvm::Regex used("Used ([0-9]+) registers");
  llvm::Regex shared("([0-9]+) bytes smem");
  auto number = [](StringRef text) {
    int64_t value = 0;
    text.getAsInteger(10, value);
    return value;
  };
  PtxasKernelStats *current = nullptr;
  SmallVector<StringRef> lines;
  report.split(lines, '\n');
  for (StringRef line : lines) {
    SmallVector<StringRef> match;
    if (entry.match(line, &match)) {
      current = &stats[match[1]];
    } else if (!current) {
      continue;
    } else if (frame.match(line, &match)) {
      current->stackFrameBytes = number(match[1]);
      current->spillStoreBytes = number(match[2]);
      current->spillLoadBytes = number(match[3]);
    } else if (used.match(line, &match)) {
      current->registers = number(match[1]);
      if (shared.match(line, &match))
        current->sharedMemoryBytes = number(match[1]);
    }
  }
}

LogicalResult
vitc::cuda::assembleWithPtxas(StringRef ptxas, StringRef ptx, int64_t sm,
                              std::vector<uint8_t> &cubin, std::string &report,
                              llvm::StringMap<PtxasKernelStats> &stats,
                              std::string &error) {
  SmallString<128> ptxPath, cubinPath, logPath;
  int fd;
  if (llvm::sys::fs::createTemporaryFile("vitc", "ptx", fd, ptxPath) ||
      llvm::sys::fs::createTemporaryFile("vitc", "cubin", cubinPath) ||
      llvm::sys::fs::createTemporaryFile("vitc-ptxas", "log", logPath)) {
    error = "cannot create temporary files for ptxas";
    return failure();
  }
  llvm::FileRemover removePtx(ptxPath), removeCubin(cubinPath),
      removeLog(logPath);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << ptx;
  }
  std::string arch = "-arch=sm_" + std::to_string(sm);
  SmallVector<StringRef> args{ptxas, "-v", arch, "-o", cubinPath, ptxPath};
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(logPath),
                                          StringRef(logPath)};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(ptxas, args, /*Env=*/std::nullopt,
                                         redirects, /*SecondsToWait=*/0,
                                         /*MemoryLimit=*/0, &message);
  if (auto log = llvm::MemoryBuffer::getFile(logPath))
    report = (*log)->getBuffer().str();
  if (status != 0) {
    error = ptxas.str() + " failed" + (message.empty() ? "" : ": " + message) +
            "\n" + report;
    return failure();
  }
  auto binary = llvm::MemoryBuffer::getFile(cubinPath, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!binary) {
    error = "ptxas wrote no cubin";
    return failure();
  }
  cubin.assign((*binary)->getBufferStart(), (*binary)->getBufferEnd());
  parsePtxasReport(report, stats);
  return success();
}

FailureOr<CudaCompileResult>
vitc::cuda::compileKernelsForCuda(ModuleOp kernels, const CudaOptions &options,
                                  std::string &error) {
  MLIRContext *ctx = kernels.getContext();
  DialectRegistry registry;
  registerCudaCodegenDialects(registry);
  ctx->appendDialectRegistry(registry);

  // Only the kernel functions: callers (the model's entry function) and
  // weight computations stay with the host.
  OwningOpRef<ModuleOp> module = ModuleOp::create(kernels.getLoc());
  for (auto function : kernels.getOps<func::FuncOp>())
    if (isKernelFunction(function))
      module->push_back(function.clone());
  if (module->getBody()->empty()) {
    error = "no kernel functions (functions with vit.kernel_name) to compile";
    return failure();
  }

  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &diagnostic) {
    os << diagnostic.getLocation() << ": " << diagnostic << "\n";
    return success();
  });
  PassManager pm(ctx);
  buildCudaToPtxPipeline(pm, options);
  if (failed(pm.run(*module))) {
    error = diagnostics;
    return failure();
  }

  CudaCompileResult result;
  auto binary = module->lookupSymbol<gpu::BinaryOp>(kKernelModuleName);
  if (!binary || binary.getObjects().size() != 1) {
    error = "the pipeline produced no PTX";
    return failure();
  }
  result.ptx = cast<gpu::ObjectAttr>(binary.getObjects()[0]).getObject().str();

  for (auto function : module->getOps<func::FuncOp>()) {
    function.walk([&](gpu::LaunchFuncOp launch) {
      LaunchInfo info;
      info.symbol = launch.getKernelName().str();
      gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
      gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
      Value sizes[] = {grid.x, grid.y, grid.z, block.x, block.y, block.z};
      for (auto [index, size] : llvm::enumerate(sizes))
        (index < 3 ? info.grid[index] : info.block[index - 3]) =
            getConstantIntValue(size).value_or(0);
      if (auto shared =
              function->getAttrOfType<IntegerAttr>(kSharedMemoryAttrName))
        info.staticSharedMemoryBytes = shared.getInt();
      result.kernels.push_back(std::move(info));
    });
  }

  std::string ptxas = findPtxas(options.ptxasPath);
  if (ptxas.empty())
    return result;
  llvm::StringMap<PtxasKernelStats> stats;
  if (failed(assembleWithPtxas(ptxas, result.ptx, options.sm, result.cubin,
                               result.ptxasReport, stats, error)))
    return failure();
  for (LaunchInfo &info : result.kernels) {
    auto it = stats.find(info.symbol);
    if (it == stats.end())
      continue;
    info.registers = it->second.registers;
    info.spillStoreBytes = it->second.spillStoreBytes;
    info.spillLoadBytes = it->second.spillLoadBytes;
  }
  return result;
}
