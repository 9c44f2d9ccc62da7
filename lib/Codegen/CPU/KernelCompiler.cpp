//===- KernelCompiler.cpp - Kernel functions to an ELF shared object ------===//
//
// MLIR pipeline to LLVM dialect, LLVM IR, the optimizing pipeline and
// machine code for the chosen CPU, then lld (linked in as a library) turns
// the object into a shared object. lld reads and writes files, so the two
// go through a temporary directory.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CPU/KernelCompiler.h"

#include "vitc/Codegen/CPU/Passes.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "lld/Common/Driver.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <mutex>

LLD_HAS_DRIVER(elf)

using namespace mlir;
using namespace vitc::cpu;

namespace {

/// The CPU and feature string LLVM generates code for.
struct TargetSpec {
  std::string cpu;
  std::string features;
};

/// Removes a directory and the files directly in it when it goes away.
class TemporaryDirectory {
public:
  llvm::Error create() {
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("vitc-cpu", path))
      return llvm::createStringError(ec, "cannot create a temporary directory");
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

static TargetSpec resolveTarget(const CpuOptions &options) {
  if (options.cpu != "host")
    return {options.cpu, options.features};
  std::string features;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    features += (features.empty() ? "" : ",") +
                std::string(feature.second ? "+" : "-") + feature.first().str();
  return {llvm::sys::getHostCPUName().str(), features};
}

/// f32 lanes of the widest vector registers `features` enables.
static int64_t vectorWidthFor(StringRef features) {
  SmallVector<StringRef> list;
  features.split(list, ',');
  if (llvm::is_contained(list, "+avx512f"))
    return 16;
  if (llvm::is_contained(list, "+avx"))
    return 8;
  return 4;
}

/// Runs the MLIR pipeline on a copy of `kernels` and translates the result.
static std::unique_ptr<llvm::Module>
lowerToLLVMIR(ModuleOp kernels, const CpuOptions &options, int64_t vectorWidth,
              llvm::LLVMContext &llvmContext,
              std::vector<CompiledKernel> &compiled, std::string &error) {
  MLIRContext *ctx = kernels.getContext();
  DialectRegistry registry;
  registerCpuCodegenDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);

  llvm::raw_string_ostream errorStream(error);
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &diagnostic) {
    errorStream << diagnostic.getLocation() << ": " << diagnostic << "\n";
  });
  for (Operation &op : kernels.getBody()->getOperations()) {
    if (!isKernelFunction(&op)) {
      op.emitError("expected only kernel functions (with ")
          << kKernelNameAttr << ")";
      return nullptr;
    }
  }

  OwningOpRef<ModuleOp> module = kernels.clone();
  PassManager pm(ctx);
  CpuPipelineOptions pipeline;
  pipeline.rowsPerTile = options.rowsPerTile;
  pipeline.columnsPerTile = options.columnsPerTile;
  pipeline.vectorWidth = vectorWidth;
  buildCpuCodegenPipeline(pm, pipeline);
  if (failed(pm.run(*module)))
    return nullptr;

  for (auto function : module->getOps<LLVM::LLVMFuncOp>())
    if (auto numTiles = function->getAttrOfType<IntegerAttr>(kNumTilesAttr))
      compiled.push_back({function.getSymName().str(), numTiles.getInt()});
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*module, llvmContext, "vitc_kernels");
  if (!llvmModule)
    errorStream << "translation to LLVM IR failed\n";
  return llvmModule;
}

/// Links `object` into a shared object with lld and returns its bytes.
static FailureOr<std::vector<uint8_t>> linkSharedObject(ArrayRef<char> object,
                                                        std::string &error) {
  TemporaryDirectory directory;
  if (llvm::Error err = directory.create()) {
    error = llvm::toString(std::move(err));
    return failure();
  }
  std::string objectPath = directory.file("kernels.o");
  std::string libraryPath = directory.file("kernels.so");
  {
    std::error_code ec;
    llvm::raw_fd_ostream file(objectPath, ec);
    if (ec) {
      error = "cannot write " + objectPath + ": " + ec.message();
      return failure();
    }
    file.write(object.data(), object.size());
  }

  // lld keeps global state while it links.
  static std::mutex lldMutex;
  std::lock_guard<std::mutex> lock(lldMutex);
  std::string output;
  llvm::raw_string_ostream outputStream(output);
  // Undefined symbols (malloc, free, memcpy) stay for the dynamic loader to
  // resolve against the C library of the process that loads the object.
  const char *args[] = {
      "ld.lld",      "-shared", "--build-id=none",   "-z",
      "noexecstack", "-o",      libraryPath.c_str(), objectPath.c_str()};
  lld::Result result = lld::lldMain(args, outputStream, outputStream,
                                    {{lld::Gnu, &lld::elf::link}});
  if (result.retCode != 0) {
    error = "lld failed: " + output;
    return failure();
  }
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(libraryPath, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer) {
    error = "cannot read " + libraryPath + ": " + buffer.getError().message();
    return failure();
  }
  StringRef bytes = (*buffer)->getBuffer();
  return std::vector<uint8_t>(bytes.bytes_begin(), bytes.bytes_end());
}

/// The target machine for `options` (host triple, position-independent
/// code, for a shared object), or null with `error` set.
static std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const CpuOptions &options, const TargetSpec &spec,
                    std::string &error) {
  if (options.optLevel > 3) {
    error = "optimization level must be 0 to 3";
    return nullptr;
  }
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, spec.cpu, spec.features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, static_cast<llvm::CodeGenOptLevel>(options.optLevel)));
  if (!machine)
    error = "cannot create a target machine for " + spec.cpu;
  return machine;
}

/// Optimizes `module` and returns the object code for `machine`.
static FailureOr<SmallVector<char, 0>>
emitObject(llvm::Module &module, llvm::TargetMachine &machine,
           const CpuOptions &options, int64_t vectorWidth, std::string &error) {
  module.setTargetTriple(machine.getTargetTriple());
  module.setDataLayout(machine.createDataLayout());
  // Some AVX-512 CPUs prefer 256-bit vectors unless told otherwise, which
  // would split the kernels' 512-bit vectors in two.
  std::string bits = std::to_string(vectorWidth * 32);
  for (llvm::Function &function : module) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("prefer-vector-width", bits);
    function.addFnAttr("min-legal-vector-width", bits);
  }
  if (llvm::Error err = makeOptimizingTransformer(
          options.optLevel, /*sizeLevel=*/0, &machine)(&module)) {
    error = llvm::toString(std::move(err));
    return failure();
  }
  SmallVector<char, 0> object;
  llvm::raw_svector_ostream stream(object);
  llvm::legacy::PassManager codegen;
  if (machine.addPassesToEmitFile(codegen, stream, nullptr,
                                  llvm::CodeGenFileType::ObjectFile)) {
    error = "the target cannot emit object files";
    return failure();
  }
  codegen.run(module);
  return object;
}

FailureOr<CpuCompileResult>
vitc::cpu::compileKernelsForCpu(ModuleOp kernels, const CpuOptions &options,
                                std::string &error) {
  error.clear();
  TargetSpec spec = resolveTarget(options);
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(options, spec, error);
  if (!machine)
    return failure();
  int64_t vectorWidth = vectorWidthFor(spec.features);

  CpuCompileResult result;
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> module = lowerToLLVMIR(
      kernels, options, vectorWidth, llvmContext, result.kernels, error);
  if (!module)
    return failure();
  FailureOr<SmallVector<char, 0>> object =
      emitObject(*module, *machine, options, vectorWidth, error);
  if (failed(object))
    return failure();
  FailureOr<std::vector<uint8_t>> library = linkSharedObject(*object, error);
  if (failed(library))
    return failure();
  result.sharedObject = std::move(*library);
  return result;
}
