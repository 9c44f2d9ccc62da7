//===- ArtifactWriter.cpp - Serialize a compiled model to .vitb -----------===//

#include "vitc/Plan/ArtifactWriter.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <type_traits>

namespace vitc {

namespace {

/// Constant data is laid out 64-byte aligned, so every constant can be read
/// with aligned vector loads straight from the mapped file.
constexpr int64_t kConstantAlignment = 64;

/// Kernel modules are 16-byte aligned (ELF headers, PTX for the driver).
constexpr int64_t kModuleAlignment = 16;

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

int64_t byteSize(const Tensor &tensor) {
  return tensor.data.size() * sizeof(float);
}

} // namespace

llvm::Expected<std::vector<std::unique_ptr<vitb::DispatchT>>>
describeDispatches(const ExecutionPlan &plan,
                   const llvm::StringMap<uint32_t> &kernelIndex) {
  std::vector<std::unique_ptr<vitb::DispatchT>> dispatches;
  for (const PlannedDispatch &planned : plan.dispatches) {
    auto kernel = kernelIndex.find(planned.symbol);
    if (kernel == kernelIndex.end())
      return llvm::createStringError(
          "internal error: dispatch of unknown kernel '" + planned.symbol +
          "'");
    auto dispatch = std::make_unique<vitb::DispatchT>();
    dispatch->kernel = kernel->second;
    for (const PlannedBinding &binding : planned.bindings)
      dispatch->bindings.emplace_back(toSchema(binding.kind),
                                      int32_t(binding.index), binding.offset,
                                      binding.size);
    dispatches.push_back(std::move(dispatch));
  }
  return dispatches;
}

llvm::Error writeArtifact(const vitb::ArtifactT &artifact,
                          llvm::ArrayRef<NamedConstant> constants,
                          llvm::StringRef path) {
  // Where each constant goes in the constant data.
  struct Placed {
    int64_t offset, size;
  };
  std::vector<Placed> placed;
  int64_t constantBytes = 0;
  for (const NamedConstant &constant : constants) {
    int64_t offset = llvm::alignTo(constantBytes, kConstantAlignment);
    placed.push_back({offset, byteSize(constant.tensor)});
    constantBytes = offset + placed.back().size;
  }
  int64_t moduleBytes = 0;
  for (const auto &module : artifact.modules)
    moduleBytes += module->data.size() + kModuleAlignment;
  // Sized for everything up front, so the buffer never grows (each growth
  // would copy what is already in it).
  flatbuffers::FlatBufferBuilder builder(constantBytes + moduleBytes +
                                         (1 << 20));

  // The constant data is only reserved in the buffer: its pages are never
  // touched, and the constants go from the tensors to the file when it is
  // written. Its place is kept as the distance from the buffer's end, which
  // growth would not change.
  builder.ForceVectorAlignment(constantBytes, 1, kConstantAlignment);
  uint8_t *reserved = nullptr;
  flatbuffers::Offset<flatbuffers::Vector<uint8_t>> constantData =
      builder.CreateUninitializedVector(constantBytes, &reserved);
  size_t constantDataFromEnd =
      builder.GetSize() - sizeof(flatbuffers::uoffset_t);

  // Built field by field: the object API's Pack would leave out the dims
  // of a scalar (an empty vector), which readers require.
  auto constantTable =
      builder.CreateVector<flatbuffers::Offset<vitb::TensorInfo>>(
          constants.size(), [&](size_t i) {
            return vitb::CreateTensorInfo(
                builder, builder.CreateString(constants[i].name.str()),
                builder.CreateVector(constants[i].tensor.shape),
                placed[i].offset, placed[i].size);
          });

  auto modules = builder.CreateVector<flatbuffers::Offset<vitb::KernelModule>>(
      artifact.modules.size(), [&](size_t i) {
        const vitb::KernelModuleT &module = *artifact.modules[i];
        builder.ForceVectorAlignment(module.data.size(), 1, kModuleAlignment);
        auto moduleData = builder.CreateVector(module.data);
        return vitb::CreateKernelModule(builder, module.format,
                                        builder.CreateString(module.target),
                                        moduleData);
      });
  // Everything else is small: the object API packs it. (Its Pack leaves
  // out empty vectors and strings; none of these is empty where readers
  // look.)
  auto packAll = [&](const auto &objects) {
    using Table = typename std::decay_t<decltype(*objects[0])>::TableType;
    return builder.CreateVector<flatbuffers::Offset<Table>>(
        objects.size(),
        [&](size_t i) { return Table::Pack(builder, objects[i].get()); });
  };
  auto kernels = packAll(artifact.kernels);
  auto dispatches = packAll(artifact.dispatches);
  auto inputs = packAll(artifact.inputs);
  auto outputs = packAll(artifact.outputs);
  flatbuffers::Offset<vitb::Metadata> metadata;
  if (artifact.metadata)
    metadata = vitb::Metadata::Pack(builder, artifact.metadata.get());
  auto root = vitb::CreateArtifact(
      builder, artifact.format_version, artifact.target,
      builder.CreateString(artifact.target_name), modules, kernels, dispatches,
      artifact.arena_bytes, constantTable, constantData, inputs, outputs,
      metadata);
  vitb::FinishArtifactBuffer(builder, root);

  std::error_code ec;
  llvm::raw_fd_ostream file(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError(ec, path + ": " + ec.message());
  const char *buffer =
      reinterpret_cast<const char *>(builder.GetBufferPointer());
  size_t constantDataStart = builder.GetSize() - constantDataFromEnd;
  file.write(buffer, constantDataStart);
  int64_t written = 0;
  for (auto [constant, place] : llvm::zip_equal(constants, placed)) {
    file.write_zeros(place.offset - written);
    file.write(reinterpret_cast<const char *>(constant.tensor.data.data()),
               place.size);
    written = place.offset + place.size;
  }
  file.write(buffer + constantDataStart + constantBytes,
             builder.GetSize() - constantDataStart - constantBytes);
  file.close();
  if (file.has_error()) {
    std::error_code error = file.error();
    file.clear_error();
    return llvm::createStringError(error, path + ": " + error.message());
  }
  return llvm::Error::success();
}

} // namespace vitc
