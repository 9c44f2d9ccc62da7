//===- Serialize.cpp - The CUDA pipeline's result to PTX, cubin, launches -===//

#include "vitc/Codegen/CUDA/CudaCodegen.h"
#include "vitc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/GPU/IR/CompilationInterfaces.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"

using namespace mlir;
using namespace vitc;
using namespace vitc::cuda;

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

llvm::Expected<PtxasResult>
vitc::cuda::assembleWithPtxas(StringRef ptxas, StringRef ptx, int64_t sm) {
  SmallString<128> ptxPath, cubinPath, logPath;
  int fd;
  if (llvm::sys::fs::createTemporaryFile("vitc", "ptx", fd, ptxPath) ||
      llvm::sys::fs::createTemporaryFile("vitc", "cubin", cubinPath) ||
      llvm::sys::fs::createTemporaryFile("vitc-ptxas", "log", logPath))
    return llvm::createStringError("cannot create temporary files for ptxas");
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
  PtxasResult result;
  if (auto log = llvm::MemoryBuffer::getFile(logPath))
    result.report = (*log)->getBuffer().str();
  if (status != 0)
    return llvm::createStringError(ptxas + " failed" +
                                   (message.empty() ? "" : ": " + message) +
                                   "\n" + result.report);
  auto binary = llvm::MemoryBuffer::getFile(cubinPath, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!binary)
    return llvm::createStringError("ptxas wrote no cubin");
  result.cubin.assign((*binary)->getBufferStart(), (*binary)->getBufferEnd());
  parsePtxasReport(result.report, result.stats);
  return result;
}

llvm::Expected<std::string> vitc::cuda::readPtx(ModuleOp module) {
  auto binary = module.lookupSymbol<gpu::BinaryOp>(kCudaKernelModuleName);
  if (!binary || binary.getObjects().size() != 1)
    return llvm::createStringError(
        "no kernel functions (functions with vit.kernel_name) were compiled: "
        "the module has no gpu.binary @" +
        kCudaKernelModuleName + " with one PTX object");
  return cast<gpu::ObjectAttr>(binary.getObjects()[0]).getObject().str();
}

llvm::Expected<CudaCompileResult>
vitc::cuda::serializeCudaKernels(ModuleOp module, const CudaOptions &options) {
  CudaCompileResult result;
  llvm::Expected<std::string> ptx = readPtx(module);
  if (!ptx)
    return ptx.takeError();
  result.ptx = std::move(*ptx);

  for (auto function : module.getOps<func::FuncOp>()) {
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
              function->getAttrOfType<IntegerAttr>(kCudaSharedMemoryAttr))
        info.staticSharedMemoryBytes = shared.getInt();
      if (auto kind = function->getAttrOfType<StringAttr>(kCudaKernelKindAttr))
        info.kind = kind.str();
      if (auto tile =
              function->getAttrOfType<DenseI64ArrayAttr>(kCudaBlockTileAttr))
        info.blockTile.assign(tile.asArrayRef().begin(),
                              tile.asArrayRef().end());
      if (auto stages =
              function->getAttrOfType<IntegerAttr>(kCudaPipelineStagesAttr))
        info.pipelineStages = stages.getInt();
      result.kernels.push_back(std::move(info));
    });
  }

  std::string ptxas = findPtxas(options.ptxasPath);
  if (ptxas.empty())
    return result;
  llvm::Expected<PtxasResult> assembled =
      assembleWithPtxas(ptxas, result.ptx, options.sm);
  if (!assembled)
    return assembled.takeError();
  result.cubin = std::move(assembled->cubin);
  result.ptxasReport = std::move(assembled->report);
  for (LaunchInfo &info : result.kernels) {
    auto it = assembled->stats.find(info.symbol);
    if (it == assembled->stats.end())
      continue;
    info.registers = it->second.registers;
    info.spillStoreBytes = it->second.spillStoreBytes;
    info.spillLoadBytes = it->second.spillLoadBytes;
  }
  return result;
}
