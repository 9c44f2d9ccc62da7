//===- ArtifactWriter.cpp - Serialize a compiled model to .vitb -----------===//

#include "vitc/Target/ArtifactWriter.h"

#include "vitc/Artifact/vitb_generated.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <map>

namespace vitc {

namespace {

/// Constant data is laid out 64-byte aligned, so every constant can be read
/// with aligned vector loads straight from the mapped file.
constexpr int64_t kConstantAlignment = 64;

vitb::ModuleFormat toSchema(ModuleFormat format) {
  switch (format) {
  case ModuleFormat::ElfSharedObject:
    return vitb::ModuleFormat::ElfSharedObject;
  case ModuleFormat::Ptx:
    return vitb::ModuleFormat::Ptx;
  case ModuleFormat::Cubin:
    return vitb::ModuleFormat::Cubin;
  }
  llvm_unreachable("unknown module format");
}

vitb::BindingKind toSchema(PlannedBinding::Kind kind) {
  switch (kind) {
  case PlannedBinding::Kind::Input:
    return vitb::BindingKind::Input;
  case PlannedBinding::Kind::Output:
    return vitb::BindingKind::Output;
  case PlannedBinding::Kind::Constant:
    return vitb::BindingKind::Constant;
  case PlannedBinding::Kind::Arena:
    return vitb::BindingKind::Arena;
  }
  llvm_unreachable("unknown binding kind");
}

} // namespace

bool writeArtifact(const ArtifactContents &contents, const std::string &path,
                   std::string &error) {
  flatbuffers::FlatBufferBuilder builder(1 << 20);

  std::vector<flatbuffers::Offset<vitb::KernelModule>> modules;
  for (const ArtifactModule &module : contents.modules) {
    builder.ForceVectorAlignment(module.data.size(), 1, 16);
    auto data = builder.CreateVector(module.data);
    modules.push_back(
        vitb::CreateKernelModule(builder, toSchema(module.format),
                                 builder.CreateString(module.target), data));
  }

  std::map<std::string, uint32_t> kernelIndex;
  std::vector<flatbuffers::Offset<vitb::Kernel>> kernels;
  for (const ArtifactKernel &kernel : contents.kernels) {
    kernelIndex[kernel.symbol] = kernels.size();
    kernels.push_back(vitb::CreateKernel(
        builder, builder.CreateString(kernel.name),
        builder.CreateString(kernel.symbol), kernel.numTiles,
        builder.CreateVector(kernel.grid.data(), 3),
        builder.CreateVector(kernel.block.data(), 3), kernel.sharedMemoryBytes,
        kernel.multiplyAccumulates));
  }

  std::vector<flatbuffers::Offset<vitb::Dispatch>> dispatches;
  for (const PlannedDispatch &dispatch : contents.plan.dispatches) {
    auto kernel = kernelIndex.find(dispatch.symbol);
    if (kernel == kernelIndex.end()) {
      error = "internal error: dispatch of unknown kernel '" + dispatch.symbol +
              "'";
      return false;
    }
    std::vector<vitb::Binding> bindings;
    for (const PlannedBinding &binding : dispatch.bindings)
      bindings.emplace_back(toSchema(binding.kind), int32_t(binding.index),
                            binding.offset, binding.size);
    dispatches.push_back(vitb::CreateDispatch(
        builder, kernel->second, builder.CreateVectorOfStructs(bindings)));
  }

  // All constants in one aligned blob.
  std::vector<flatbuffers::Offset<vitb::TensorInfo>> constants;
  std::vector<uint8_t> constantData;
  for (size_t i = 0; i < contents.constants.size(); ++i) {
    const Tensor &tensor = contents.constants[i];
    int64_t offset = llvm::alignTo(constantData.size(), kConstantAlignment);
    int64_t size = tensor.data.size() * sizeof(float);
    constantData.resize(offset + size);
    std::memcpy(constantData.data() + offset, tensor.data.data(), size);
    constants.push_back(vitb::CreateTensorInfo(
        builder, builder.CreateString(contents.constantNames[i]),
        builder.CreateVector(tensor.shape), offset, size));
  }
  builder.ForceVectorAlignment(constantData.size(), 1, kConstantAlignment);
  auto constantBlob = builder.CreateVector(constantData);

  auto tensorInfos = [&](const std::vector<ArtifactTensor> &tensors) {
    std::vector<flatbuffers::Offset<vitb::TensorInfo>> infos;
    for (const ArtifactTensor &tensor : tensors)
      infos.push_back(
          vitb::CreateTensorInfo(builder, builder.CreateString(tensor.name),
                                 builder.CreateVector(tensor.dims)));
    return builder.CreateVector(infos);
  };
  auto inputs = tensorInfos(contents.inputs);
  auto outputs = tensorInfos(contents.outputs);

  const ArtifactMetadata &meta = contents.metadata;
  auto metadata = vitb::CreateMetadata(
      builder, builder.CreateString(meta.model), meta.parameters,
      meta.multiplyAccumulatesPerImage, meta.batch,
      builder.CreateString(meta.inputLayout),
      builder.CreateVector(meta.pixelMean), builder.CreateVector(meta.pixelStd),
      builder.CreateString(meta.compilerVersion),
      builder.CreateString(meta.compileOptions),
      builder.CreateString(meta.configJson));

  auto artifact = vitb::CreateArtifact(
      builder, kArtifactFormatVersion,
      contents.cuda ? vitb::TargetKind::Cuda : vitb::TargetKind::Cpu,
      builder.CreateString(contents.targetName), builder.CreateVector(modules),
      builder.CreateVector(kernels), builder.CreateVector(dispatches),
      contents.plan.arenaBytes, builder.CreateVector(constants), constantBlob,
      inputs, outputs, metadata);
  vitb::FinishArtifactBuffer(builder, artifact);

  std::error_code ec;
  llvm::raw_fd_ostream file(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = path + ": " + ec.message();
    return false;
  }
  file.write(reinterpret_cast<const char *>(builder.GetBufferPointer()),
             builder.GetSize());
  file.close();
  if (file.has_error()) {
    error = path + ": " + file.error().message();
    file.clear_error();
    return false;
  }
  return true;
}

} // namespace vitc
