//===- Serialize.cpp - The CPU target and its shared object ---------------===//
//
// LLVM dialect to LLVM IR, the optimizing pipeline and machine code for the
// chosen CPU, then lld (linked in as a library) turns the object into a
// shared object. lld reads and writes files, so the two go through a
// temporary directory.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CPU/Serialize.h"

#include "vitc/Support/KernelContract.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "lld/Common/Driver.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <mutex>

LLD_HAS_DRIVER(elf)

using namespace mlir;
using namespace vitc::cpu;
using llvm::createStringError;
using llvm::Expected;

namespace {

/// Removes a directory and the files directly in it when it goes away.
class TemporaryDirectory {
public:
  llvm::Error create() {
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("vitc-cpu", path))
      return createStringError(ec, "cannot create a temporary directory");
    return llvm::Error::success();
  }
  std::string file(StringRef name) const {
    SmallString<128> result(path);
    llvm::sys::path::append(result, name);
    return std::string(result);
  }
  ~TemporaryDirectory() {
    if (path.empty())
      return;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(path, ec), end; it != end && !ec;
         it.increment(ec))
      llvm::sys::fs::remove(it->path());
    llvm::sys::fs::remove(path);
  }

private:
  SmallString<128> path;
};

} // namespace

/// The target machine for `target` (host triple, position-independent code,
/// for a shared object).
static Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const CpuTarget &target) {
  if (target.optLevel > 3)
    return createStringError("optimization level must be 0 to 3");
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string error;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return createStringError(error);
  // Checked before the target machine exists: creating one for an unknown
  // CPU prints LLVM's own warning, twice, ahead of our one-line error.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      llvmTarget->createMCSubtargetInfo(triple, "", ""));
  if (!generic->isCPUStringValid(target.cpu))
    return createStringError("unknown CPU '" + target.cpu + "' for " +
                             triple.str());
  // A 32-bit CPU (i686, pentium4) is a valid name for the x86 target, but
  // LLVM aborts when asked for 64-bit code for it.
  std::unique_ptr<llvm::MCSubtargetInfo> named(
      llvmTarget->createMCSubtargetInfo(triple, target.cpu, target.features));
  if (triple.isArch64Bit() && triple.isX86() && !named->checkFeatures("+64bit"))
    return createStringError("CPU '" + target.cpu + "' cannot run " +
                             triple.getArchName() + " code (a 32-bit CPU)");
  // Multiplies feeding adds become FMAs: one instruction and one rounding
  // instead of two, which is what the matmul micro-kernels are sized for
  // (AVX2 and AVX-512 both have them; without FMA hardware nothing fuses).
  llvm::TargetOptions options;
  options.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  // Loop headers on 64-byte boundaries (LLVM's x86 default is 16): a
  // micro-kernel's inner loop (~140 bytes) then spans as few fetch and
  // op-cache lines as its size allows wherever the kernel lands, instead of
  // its speed depending on the code before it (ViT-B/16's AVX2 linears
  // moved by 3-4% with an unrelated kernel change; docs/codegen-cpu.md).
  options.LoopAlignment = 64;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, target.cpu, target.features, options, llvm::Reloc::PIC_,
      std::nullopt, static_cast<llvm::CodeGenOptLevel>(target.optLevel)));
  if (!machine)
    return createStringError("cannot create a target machine for " +
                             target.cpu);
  return machine;
}

Expected<CpuTarget> vitc::cpu::resolveCpuTarget(StringRef cpuName) {
  CpuTarget target;
  if (cpuName == "host") {
    target.cpu = llvm::sys::getHostCPUName().str();
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      target.features += (target.features.empty() ? "" : ",") +
                         std::string(feature.second ? "+" : "-") +
                         feature.first().str();
  } else {
    target.cpu = cpuName.str();
  }
  Expected<std::unique_ptr<llvm::TargetMachine>> machine =
      createTargetMachine(target);
  if (!machine)
    return machine.takeError();
  const llvm::MCSubtargetInfo *subtarget = (*machine)->getMCSubtargetInfo();
  for (const llvm::SubtargetFeatureKV &feature :
       subtarget->getAllProcessorFeatures())
    if (subtarget->checkFeatures(std::string("+") + feature.Key))
      target.enabledFeatures.push_back(feature.Key);
  // What the features enable decides the vector width, for "host" and for a
  // named CPU alike: the pipeline vectorizes for exactly what the object
  // code will run on.
  target.codegen.vectorWidth = 4;
  for (auto [feature, name, width] :
       {std::tuple("+avx512f", "AVX-512", 16), std::tuple("+avx2", "AVX2", 8),
        std::tuple("+avx", "AVX", 8), std::tuple("+sse4.2", "SSE4.2", 4)}) {
    if (subtarget->checkFeatures(feature)) {
      target.vectorExtension = name;
      target.codegen.vectorWidth = width;
      break;
    }
  }
  return target;
}

std::string CpuTarget::describe() const {
  return cpu + " (" + vectorExtension + ", " +
         std::to_string(codegen.vectorWidth) + " f32 lanes)";
}

/// Links `objects` into a shared object with lld and returns its bytes.
static Expected<std::vector<uint8_t>>
linkSharedObject(ArrayRef<SmallVector<char, 0>> objects) {
  TemporaryDirectory directory;
  if (llvm::Error error = directory.create())
    return std::move(error);
  std::string libraryPath = directory.file("kernels.so");
  std::vector<std::string> objectPaths;
  for (auto [index, object] : llvm::enumerate(objects)) {
    objectPaths.push_back(
        directory.file("kernels" + std::to_string(index) + ".o"));
    std::error_code ec;
    llvm::raw_fd_ostream file(objectPaths.back(), ec);
    if (ec)
      return createStringError(ec, "cannot write " + objectPaths.back());
    file.write(object.data(), object.size());
  }

  // lld keeps global state while it links.
  static std::mutex lldMutex;
  std::lock_guard<std::mutex> lock(lldMutex);
  std::string output;
  llvm::raw_string_ostream outputStream(output);
  // Undefined symbols (malloc, free, memcpy) stay for the dynamic loader to
  // resolve against the C library of the process that loads the object.
  std::vector<const char *> args = {
      "ld.lld",      "-shared", "--build-id=none",  "-z",
      "noexecstack", "-o",      libraryPath.c_str()};
  for (const std::string &path : objectPaths)
    args.push_back(path.c_str());
  lld::Result result = lld::lldMain(args, outputStream, outputStream,
                                    {{lld::Gnu, &lld::elf::link}});
  if (result.retCode != 0)
    return createStringError("lld failed: " + output);
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(libraryPath, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return createStringError(buffer.getError(), "cannot read " + libraryPath);
  StringRef bytes = (*buffer)->getBuffer();
  return std::vector<uint8_t>(bytes.bytes_begin(), bytes.bytes_end());
}

/// Optimizes `module` and returns the object code for `machine`.
static Expected<SmallVector<char, 0>> emitObject(llvm::Module &module,
                                                 llvm::TargetMachine &machine,
                                                 const CpuTarget &target) {
  module.setTargetTriple(machine.getTargetTriple());
  module.setDataLayout(machine.createDataLayout());
  // Some AVX-512 CPUs prefer 256-bit vectors unless told otherwise, which
  // would split the kernels' 512-bit vectors in two.
  std::string bits = std::to_string(target.codegen.vectorWidth * 32);
  for (llvm::Function &function : module) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("prefer-vector-width", bits);
    function.addFnAttr("min-legal-vector-width", bits);
  }
  if (llvm::Error error = makeOptimizingTransformer(
          target.optLevel, /*sizeLevel=*/0, &machine)(&module))
    return std::move(error);
  SmallVector<char, 0> object;
  llvm::raw_svector_ostream stream(object);
  llvm::legacy::PassManager codegen;
  if (machine.addPassesToEmitFile(codegen, stream, nullptr,
                                  llvm::CodeGenFileType::ObjectFile))
    return createStringError("the target cannot emit object files");
  codegen.run(module);
  return object;
}

/// Keeps the kernel entry points `keep` of `module` and what they call:
/// the other entry points and the functions only they used are removed.
static void keepEntryPoints(llvm::Module &module, const llvm::StringSet<> &keep,
                            const llvm::StringSet<> &entryPoints) {
  for (llvm::Function &function : llvm::make_early_inc_range(module))
    if (entryPoints.contains(function.getName()) &&
        !keep.contains(function.getName()))
      function.eraseFromParent();
  for (bool erased = true; erased;) {
    erased = false;
    for (llvm::Function &function : llvm::make_early_inc_range(module)) {
      if (function.hasLocalLinkage() && function.use_empty()) {
        function.eraseFromParent();
        erased = true;
      }
    }
  }
}

Expected<CpuObject> vitc::cpu::serializeCpuKernels(ModuleOp module,
                                                   const CpuTarget &target) {
  CpuObject result;
  for (auto function : module.getOps<LLVM::LLVMFuncOp>())
    if (isKernelFunction(function))
      if (auto numTiles = function->getAttrOfType<IntegerAttr>(kNumTilesAttr))
        result.kernels.push_back(
            {function.getSymName().str(), numTiles.getInt()});
  if (result.kernels.empty())
    return createStringError("no kernel entry points to compile: the module "
                             "is not the end of the CPU pipeline");

  // The kernels are optimized and compiled in parts on all cores, one LLVM
  // context per part; the objects are then linked together.
  unsigned parts =
      std::min<unsigned>(result.kernels.size(),
                         llvm::hardware_concurrency().compute_thread_count());
  llvm::StringSet<> entryPoints;
  for (const CompiledKernel &kernel : result.kernels)
    entryPoints.insert(kernel.symbol);
  std::vector<std::unique_ptr<llvm::LLVMContext>> contexts;
  std::vector<std::unique_ptr<llvm::Module>> llvmModules;
  for (unsigned part = 0; part < parts; ++part) {
    contexts.push_back(std::make_unique<llvm::LLVMContext>());
    // Translation reads the MLIR context, so it stays on this thread.
    llvmModules.push_back(
        translateModuleToLLVMIR(module, *contexts.back(), "vitc_kernels"));
    if (!llvmModules.back())
      return createStringError("translation to LLVM IR failed");
    llvm::StringSet<> keep;
    for (size_t k = part; k < result.kernels.size(); k += parts)
      keep.insert(result.kernels[k].symbol);
    keepEntryPoints(*llvmModules.back(), keep, entryPoints);
  }

  std::vector<std::unique_ptr<llvm::TargetMachine>> machines;
  for (unsigned part = 0; part < parts; ++part) {
    Expected<std::unique_ptr<llvm::TargetMachine>> machine =
        createTargetMachine(target);
    if (!machine)
      return machine.takeError();
    machines.push_back(std::move(*machine));
  }
  std::vector<SmallVector<char, 0>> objects(parts);
  std::vector<std::optional<std::string>> failures(parts);
  {
    llvm::DefaultThreadPool pool(llvm::hardware_concurrency(parts));
    for (unsigned part = 0; part < parts; ++part) {
      pool.async([&, part] {
        Expected<SmallVector<char, 0>> object =
            emitObject(*llvmModules[part], *machines[part], target);
        if (object)
          objects[part] = std::move(*object);
        else
          failures[part] = llvm::toString(object.takeError());
      });
    }
    pool.wait();
  }
  for (const std::optional<std::string> &failure : failures)
    if (failure)
      return createStringError(*failure);
  Expected<std::vector<uint8_t>> library = linkSharedObject(objects);
  if (!library)
    return library.takeError();
  result.sharedObject = std::move(*library);
  return result;
}
