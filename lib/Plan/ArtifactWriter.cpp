//===- ArtifactWriter.cpp - Serialize a compiled model to .vitb -----------===//

#include "vitc/Plan/ArtifactWriter.h"

#include "vitc/Support/HalfPrecision.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
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

vitb::ElementType toSchema(StorageType storage) {
  switch (storage) {
  case StorageType::F32:
    return vitb::ElementType::F32;
  case StorageType::BF16:
    return vitb::ElementType::BF16;
  case StorageType::F16:
    return vitb::ElementType::F16;
  }
  llvm_unreachable("unknown storage type");
}

/// Hands `sink` the stored form of `tensor` in order, in chunks: its f32
/// values, or each rounded to its 16-bit storage type (exact: the compiler
/// already rounded them).
void forEachStoredChunk(const Tensor &tensor,
                        llvm::function_ref<void(const char *, size_t)> sink) {
  if (tensor.storage == StorageType::F32) {
    sink(reinterpret_cast<const char *>(tensor.data.data()),
         tensor.storageBytes());
    return;
  }
  constexpr size_t kChunk = 1 << 16;
  std::vector<uint16_t> stored;
  stored.reserve(std::min(kChunk, tensor.data.size()));
  for (size_t start = 0; start < tensor.data.size(); start += kChunk) {
    stored.clear();
    size_t end = std::min(tensor.data.size(), start + kChunk);
    for (size_t i = start; i < end; ++i)
      stored.push_back(tensor.storage == StorageType::BF16
                           ? f32ToBf16(tensor.data[i])
                           : f32ToF16(tensor.data[i]));
    sink(reinterpret_cast<const char *>(stored.data()),
         stored.size() * sizeof(uint16_t));
  }
}

/// Where a constant goes in the constant data.
struct Placed {
  int64_t offset, size;
};

/// Hands `sink` the constant data in order: each constant's stored bytes,
/// preceded by the zeros that align it.
void forEachConstantDataChunk(
    llvm::ArrayRef<NamedConstant> constants, llvm::ArrayRef<Placed> placed,
    llvm::function_ref<void(const char *, size_t)> sink) {
  static const char zeros[kConstantAlignment] = {};
  int64_t written = 0;
  for (auto [constant, place] : llvm::zip_equal(constants, placed)) {
    sink(zeros, place.offset - written);
    forEachStoredChunk(constant.tensor, sink);
    written = place.offset + place.size;
  }
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
  std::vector<Placed> placed;
  int64_t constantBytes = 0;
  for (const NamedConstant &constant : constants) {
    int64_t offset = llvm::alignTo(constantBytes, kConstantAlignment);
    placed.push_back({offset, constant.tensor.storageBytes()});
    constantBytes = offset + placed.back().size;
  }
  int64_t moduleBytes = 0;
  for (const auto &module : artifact.modules)
    moduleBytes += module->data.size() + kModuleAlignment;
  // Past vitb::kMaxArtifactBytes (FlatBuffers' 32-bit offsets) the builder
  // would write a file no reader can verify. The metadata and the dispatch
  // plan take far less than the 1 MiB reserved for them.
  constexpr int64_t kMetadataBytes = 1 << 20;
  if (constantBytes + moduleBytes + kMetadataBytes >
      int64_t(vitb::kMaxArtifactBytes))
    return llvm::createStringError(llvm::formatv(
        "the artifact would be {0:F1} MiB, more than the 2048 MiB a .vitb "
        "holds (FlatBuffers' 32-bit offsets); its constants (the weights) "
        "alone are {1:F1} MiB",
        (constantBytes + moduleBytes + kMetadataBytes) / double(1 << 20),
        constantBytes / double(1 << 20)));
  // Sized for everything up front, so the buffer never grows (each growth
  // would copy what is already in it).
  flatbuffers::FlatBufferBuilder builder(constantBytes + moduleBytes +
                                         kMetadataBytes);

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
                placed[i].offset, placed[i].size,
                toSchema(constants[i].tensor.storage));
          });

  auto modules = builder.CreateVector<flatbuffers::Offset<vitb::KernelModule>>(
      artifact.modules.size(), [&](size_t i) {
        const vitb::KernelModuleT &module = *artifact.modules[i];
        builder.ForceVectorAlignment(module.data.size(), 1, kModuleAlignment);
        auto moduleData = builder.CreateVector(module.data);
        return vitb::CreateKernelModule(
            builder, module.format, builder.CreateString(module.target),
            moduleData,
            vitb::Checksum::of(module.data.data(), module.data.size()),
            builder.CreateVectorOfStrings(module.cpu_features));
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
  vitb::Checksum constantChecksum;
  forEachConstantDataChunk(constants, placed,
                           [&](const char *data, size_t size) {
                             constantChecksum.update(data, size);
                           });
  auto targetName = builder.CreateString(artifact.target_name);
  // The plan checksum is stored once the buffer is complete: its field
  // must be there, with whatever value, to be overwritten in place.
  builder.ForceDefaults(true);
  auto root = vitb::CreateArtifact(
      builder, artifact.format_version, artifact.target, targetName, modules,
      kernels, dispatches, artifact.arena_bytes, constantTable, constantData,
      inputs, outputs, metadata, constantChecksum.digest(),
      /*plan_checksum=*/0);
  vitb::FinishArtifactBuffer(builder, root);
  uint8_t *buffer = builder.GetBufferPointer();
  vitb::Artifact *written = vitb::GetMutableArtifact(buffer);
  // The constant data is not in the buffer yet, but the plan checksum
  // skips it.
  if (!written->mutate_plan_checksum(
          vitb::planChecksum(buffer, builder.GetSize(), *written)))
    return llvm::createStringError("internal error: the artifact has no "
                                   "plan checksum field");

  std::error_code ec;
  llvm::raw_fd_ostream file(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError(ec, path + ": " + ec.message());
  const char *bytes = reinterpret_cast<const char *>(buffer);
  size_t constantDataStart = builder.GetSize() - constantDataFromEnd;
  file.write(bytes, constantDataStart);
  forEachConstantDataChunk(
      constants, placed,
      [&](const char *data, size_t size) { file.write(data, size); });
  file.write(bytes + constantDataStart + constantBytes,
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
