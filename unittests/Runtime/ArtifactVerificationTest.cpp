//===- ArtifactVerificationTest.cpp - vitrt rejects bad artifacts ---------===//
//
// Artifacts are built with the generated FlatBuffers code, then damaged; the
// runtime must report each problem with the right status and never crash.
// The test does not use the compiler's writer so that it links only vitrt
// and runs in the runtime-only build (VITC_BUILD_COMPILER=OFF).
//
//===----------------------------------------------------------------------===//

#include "vitc/Artifact/Format.h"
#include "vitc/Artifact/vitb_generated.h"
#include "vitc/Runtime/vitrt.h"

#include "AddressSpaceLimit.h"

#include "gtest/gtest.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using vitb::kFormatVersion;

/// The bindings of the one dispatch: the input, a constant, a slice of the
/// arena, then the output, all 16 bytes and in bounds.
std::vector<vitb::Binding> validBindings() {
  return {{vitb::BindingKind::Input, 0, 0, 16},
          {vitb::BindingKind::Constant, 0, 0, 16},
          {vitb::BindingKind::Arena, 0, 0, 16},
          {vitb::BindingKind::Output, 0, 0, 16}};
}

/// A kernel module of the artifact: bytes (not real code: the tests stop
/// before anything loads them) and the CPU features it declares.
struct Module {
  std::vector<uint8_t> data;
  std::vector<std::string> cpuFeatures;
};

/// What the test artifact holds. The defaults pass the runtime's checks of
/// the artifact: it fails only in a backend.
struct Spec {
  bool cuda = false;
  /// The one dispatch's bindings.
  std::vector<vitb::Binding> bindings = validBindings();
  /// The kernel's signature, tiles and launch configuration.
  std::vector<int64_t> bindingBytes = {16, 16, 16, 16};
  int64_t numTiles = 1;
  std::vector<int64_t> grid = {1, 1, 1}, block = {1, 1, 1};
  std::vector<Module> modules;
  std::vector<int64_t> inputShape = {4};
  int64_t arenaBytes = 256;
  /// Metadata beyond the model name: none by default.
  int64_t batch = 0;
  std::string inputLayout;
  std::vector<float> pixelStd;
  /// Class names of the output's 4 classes.
  std::vector<std::string> labels;
};

/// The artifact `spec` describes, with correct checksums.
std::vector<uint8_t> serialize(const Spec &spec = {}) {
  flatbuffers::FlatBufferBuilder builder;
  std::vector<flatbuffers::Offset<vitb::Kernel>> kernels = {
      vitb::CreateKernelDirect(builder, "k", "k", spec.numTiles, &spec.grid,
                               &spec.block, /*shared_memory_bytes=*/0,
                               /*multiply_accumulates=*/0, &spec.bindingBytes)};
  std::vector<flatbuffers::Offset<vitb::Dispatch>> dispatches = {
      vitb::CreateDispatchDirect(builder, /*kernel=*/0, &spec.bindings)};

  std::vector<int64_t> shape = {4};
  const float values[] = {1, 2, 3, 4};
  std::vector<uint8_t> constantData(sizeof(values));
  std::memcpy(constantData.data(), values, sizeof(values));
  std::vector<flatbuffers::Offset<vitb::TensorInfo>> constants = {
      vitb::CreateTensorInfoDirect(builder, "c", &shape, /*offset=*/0,
                                   /*size=*/sizeof(values))};
  std::vector<flatbuffers::Offset<vitb::TensorInfo>> inputs = {
      vitb::CreateTensorInfoDirect(builder, "image", &spec.inputShape)};
  std::vector<flatbuffers::Offset<vitb::TensorInfo>> outputs = {
      vitb::CreateTensorInfoDirect(builder, "logits", &shape)};

  std::vector<flatbuffers::Offset<vitb::KernelModule>> modules;
  for (const Module &module : spec.modules) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> features;
    for (const std::string &feature : module.cpuFeatures)
      features.push_back(builder.CreateString(feature));
    modules.push_back(vitb::CreateKernelModuleDirect(
        builder,
        spec.cuda ? vitb::ModuleFormat::Ptx
                  : vitb::ModuleFormat::ElfSharedObject,
        spec.cuda ? "sm_90" : "x86_64", &module.data,
        vitb::Checksum::of(module.data.data(), module.data.size()), &features));
  }
  std::vector<flatbuffers::Offset<flatbuffers::String>> labels;
  for (const std::string &label : spec.labels)
    labels.push_back(builder.CreateString(label));
  auto metadata = vitb::CreateMetadataDirect(
      builder, "test", /*parameters=*/0, /*multiply_accumulates_per_image=*/0,
      spec.batch, spec.inputLayout.empty() ? nullptr : spec.inputLayout.c_str(),
      /*pixel_mean=*/nullptr, spec.pixelStd.empty() ? nullptr : &spec.pixelStd,
      /*compiler_version=*/nullptr, /*compile_options=*/nullptr,
      /*config_json=*/nullptr, /*precision=*/nullptr, &labels);
  // As the writer does: the plan checksum field is stored, then set.
  builder.ForceDefaults(true);
  vitb::FinishArtifactBuffer(
      builder,
      vitb::CreateArtifactDirect(
          builder, kFormatVersion,
          spec.cuda ? vitb::TargetKind::Cuda : vitb::TargetKind::Cpu,
          spec.cuda ? "sm_90" : "x86_64", &modules, &kernels, &dispatches,
          spec.arenaBytes, &constants, &constantData, &inputs, &outputs,
          metadata,
          vitb::Checksum::of(constantData.data(), constantData.size())));
  vitb::Artifact *root = vitb::GetMutableArtifact(builder.GetBufferPointer());
  EXPECT_TRUE(root->mutate_plan_checksum(vitb::planChecksum(
      builder.GetBufferPointer(), builder.GetSize(), *root)));
  return {builder.GetBufferPointer(),
          builder.GetBufferPointer() + builder.GetSize()};
}

/// The test artifact with `bindings` (and the kernel's signature matching
/// their sizes).
std::vector<uint8_t> withBindings(const std::vector<vitb::Binding> &bindings) {
  Spec spec;
  spec.bindings = bindings;
  spec.bindingBytes.clear();
  for (const vitb::Binding &binding : bindings)
    spec.bindingBytes.push_back(binding.size());
  return serialize(spec);
}

/// The CPU test artifact with one kernel module of `code` (not real code:
/// loading it fails) declaring `cpuFeatures`.
std::vector<uint8_t> withCode(const std::vector<uint8_t> &code,
                              const std::vector<std::string> &cpuFeatures) {
  Spec spec;
  spec.modules = {{code, cpuFeatures}};
  return serialize(spec);
}

vitrt_status load(const std::vector<uint8_t> &bytes,
                  const vitrt_options *options = nullptr) {
  vitrt_session *session = nullptr;
  vitrt_status status = vitrt_session_create_from_memory(
      bytes.data(), bytes.size(), options, &session);
  vitrt_session_destroy(session);
  return status;
}

/// The message the runtime refuses the artifact `spec` describes with, as
/// an invalid artifact.
std::string refusal(const Spec &spec) {
  EXPECT_EQ(load(serialize(spec)), VITRT_ERROR_INVALID_ARTIFACT);
  return vitrt_last_error();
}

TEST(ArtifactVerification, RejectsNonArtifacts) {
  std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ',
                               'w', 'o', 'r', 'l', 'd', '!'};
  EXPECT_EQ(load(text), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: not a .vitb file (missing the VITB "
               "identifier)");
  EXPECT_EQ(load({}), VITRT_ERROR_INVALID_ARTIFACT);
}

TEST(ArtifactVerification, RejectsEveryTruncation) {
  std::vector<uint8_t> bytes = serialize();
  // Any prefix is rejected as invalid (not accepted, not a crash).
  for (size_t size = 0; size < bytes.size(); size += 7) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + size);
    EXPECT_EQ(load(prefix), VITRT_ERROR_INVALID_ARTIFACT) << size;
  }
}

TEST(ArtifactVerification, RejectsNewerFormatVersions) {
  std::vector<uint8_t> bytes = serialize();
  // Find the version by value past the root offset and the identifier and
  // bump it; other fields that hold the same value do not make the runtime
  // answer UNSUPPORTED.
  bool patched = false;
  for (size_t i = 8; i + 4 <= bytes.size() && !patched; i += 4) {
    uint32_t value;
    std::memcpy(&value, &bytes[i], 4);
    if (value == kFormatVersion) {
      uint32_t newer = kFormatVersion + 1;
      std::vector<uint8_t> candidate = bytes;
      std::memcpy(&candidate[i], &newer, 4);
      if (load(candidate) == VITRT_ERROR_UNSUPPORTED) {
        patched = true;
        EXPECT_EQ(std::string(vitrt_last_error()),
                  "artifact format version " + std::to_string(newer) +
                      " is not supported by this runtime (it reads version " +
                      std::to_string(kFormatVersion) + ")");
      }
    }
  }
  EXPECT_TRUE(patched);
}

TEST(ArtifactVerification, RejectsBindingsOutOfBounds) {
  std::vector<vitb::Binding> bindings = validBindings();
  bindings[2] = vitb::Binding(vitb::BindingKind::Arena, 0, /*offset=*/250, 16);
  EXPECT_EQ(load(withBindings(bindings)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(), "invalid artifact: dispatch 0: arena "
                                   "binding outside the arena");

  bindings = validBindings();
  bindings[1] = vitb::Binding(vitb::BindingKind::Constant, /*index=*/3, 0, 16);
  EXPECT_EQ(load(withBindings(bindings)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: dispatch 0: bad constant binding");

  bindings = validBindings();
  bindings[0] = vitb::Binding(vitb::BindingKind::Input, 0, 0, /*size=*/8);
  EXPECT_EQ(load(withBindings(bindings)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: dispatch 0: bad input binding");
}

TEST(ArtifactVerification, RejectsImpossibleShapesAndSizes) {
  // Callers size buffers by the shapes: a negative or zero dimension, or a
  // byte count beyond int64_t (which used to overflow, UB), is refused even
  // where the bindings agree with it: [-1, -4] has 16 bytes as a product.
  auto loadInput = [](const std::vector<int64_t> &shape) {
    Spec spec;
    spec.inputShape = shape;
    return load(serialize(spec));
  };
  for (std::vector<int64_t> shape : {std::vector<int64_t>{-1, -4}, {0, 4}}) {
    EXPECT_EQ(loadInput(shape), VITRT_ERROR_INVALID_ARTIFACT);
    EXPECT_STREQ(vitrt_last_error(),
                 "invalid artifact: input 'image' has a dimension below 1");
  }
  EXPECT_EQ(loadInput({int64_t(1) << 40, int64_t(1) << 30}),
            VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(), "invalid artifact: input 'image' has "
                                   "more bytes than an int64_t counts");

  Spec negativeArena;
  negativeArena.arenaBytes = -1;
  EXPECT_EQ(load(serialize(negativeArena)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: the arena size is negative");
  // An offset and a size that each fit but whose sum overflows.
  std::vector<vitb::Binding> bindings = validBindings();
  bindings[2] = vitb::Binding(vitb::BindingKind::Arena, 0, /*offset=*/16,
                              /*size=*/INT64_MAX);
  EXPECT_EQ(load(withBindings(bindings)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(), "invalid artifact: dispatch 0: arena "
                                   "binding outside the arena");
}

TEST(ArtifactVerification, NamesFromTheFileAreEscaped) {
  // A newline in a name would forge a second line of the one-line error.
  std::vector<uint8_t> code = {'c', 'o', 'd', 'e'};
  EXPECT_EQ(load(withCode(code, {"avx\nfake error"})), VITRT_ERROR_UNSUPPORTED);
  EXPECT_EQ(std::string(vitrt_last_error())
                .rfind("this artifact needs avx\\0Afake error, which", 0),
            0u)
      << vitrt_last_error();
}

TEST(ArtifactVerification, CpuArtifactNeedsItsSharedObject) {
  EXPECT_EQ(load(serialize()), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: a CPU artifact without a shared object");
}

/// Flips one bit of the first occurrence of `pattern` in `bytes`.
std::vector<uint8_t> flipBitIn(std::vector<uint8_t> bytes,
                               const std::vector<uint8_t> &pattern) {
  auto found =
      std::search(bytes.begin(), bytes.end(), pattern.begin(), pattern.end());
  EXPECT_NE(found, bytes.end());
  if (found != bytes.end())
    found[pattern.size() / 2] ^= 0x08;
  return bytes;
}

TEST(ArtifactVerification, ChecksumsCatchAFlippedBit) {
  // The constant data holds the floats 1, 2, 3, 4.
  const float values[] = {1, 2, 3, 4};
  std::vector<uint8_t> constants(reinterpret_cast<const uint8_t *>(values),
                                 reinterpret_cast<const uint8_t *>(values) +
                                     sizeof(values));
  EXPECT_EQ(load(flipBitIn(serialize(), constants)),
            VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: the constant data (weights) does not match "
               "its checksum: the file is corrupt");

  std::vector<uint8_t> code = {'n', 'o', 't', ' ', 'r', 'e', 'a',
                               'l', ' ', 'c', 'o', 'd', 'e', '!'};
  std::vector<uint8_t> bytes = withCode(code, {});
  EXPECT_EQ(load(flipBitIn(bytes, code)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: kernel module 0 (x86_64) does not match its "
               "checksum: the file is corrupt");
  // Unflipped, the same artifact gets as far as loading the bytes as code.
  EXPECT_EQ(load(bytes), VITRT_ERROR_EXECUTION);
}

TEST(ArtifactVerification, EveryBitFlipIsRefusedBeforeTheCodeLoads) {
  // The three checksums cover every byte: whatever single bit flips, the
  // runtime refuses the file before it loads the (fake) code, which would
  // fail with VITRT_ERROR_EXECUTION. A flip in the format version is
  // UNSUPPORTED, any other INVALID_ARTIFACT.
  std::vector<uint8_t> code = {'n', 'o', 't', ' ', 'c', 'o', 'd', 'e'};
  std::vector<uint8_t> bytes = withCode(code, {});
  ASSERT_EQ(load(bytes), VITRT_ERROR_EXECUTION) << vitrt_last_error();
  int refusedAsCorrupt = 0;
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::vector<uint8_t> flipped = bytes;
    flipped[bit / 8] ^= uint8_t(1u << (bit % 8));
    vitrt_status status = load(flipped);
    ASSERT_TRUE(status == VITRT_ERROR_INVALID_ARTIFACT ||
                status == VITRT_ERROR_UNSUPPORTED)
        << "bit " << bit << ": " << vitrt_last_error();
    refusedAsCorrupt +=
        std::string(vitrt_last_error()).find("corrupt") != std::string::npos;
  }
  // Most flips land in the tables and only the checksums can tell.
  EXPECT_GT(refusedAsCorrupt, int(bytes.size() * 8) / 2);
}

TEST(ArtifactVerification, PlanChecksumCoversTheDispatches) {
  // Moving the arena binding to another range inside the arena passes every
  // range check; only the plan checksum tells that the file changed.
  std::vector<uint8_t> bytes = serialize();
  vitb::Artifact *root = vitb::GetMutableArtifact(bytes.data());
  root->mutable_dispatches()
      ->GetMutableObject(0)
      ->mutable_bindings()
      ->GetMutableObject(2)
      ->mutate_offset(64);
  EXPECT_EQ(load(bytes), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: the tables (kernels, dispatches, tensors, "
               "metadata, checksums) do not match their checksum: the file "
               "is corrupt");
}

TEST(ArtifactVerification, DispatchesMustMatchTheKernelSignature) {
  Spec spec;
  spec.bindingBytes = {16, 16, 16};
  EXPECT_EQ(load(serialize(spec)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(), "invalid artifact: dispatch 0: 4 bindings "
                                   "for kernel 'k', which takes 3");
  spec.bindingBytes = {16, 16, 32, 16};
  EXPECT_EQ(load(serialize(spec)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(), "invalid artifact: dispatch 0: binding 2 "
                                   "has 16 bytes, kernel 'k' takes 32");
  // The kernel's output written over the caller's input, or over its own
  // operand.
  std::vector<vitb::Binding> bindings = validBindings();
  bindings[3] = bindings[0];
  EXPECT_EQ(load(withBindings(bindings)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(), "invalid artifact: dispatch 0: the output "
                                   "is bound to an input or a constant");
  bindings[3] = vitb::Binding(vitb::BindingKind::Arena, 0, /*offset=*/8, 16);
  EXPECT_EQ(load(withBindings(bindings)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: dispatch 0: the output overlaps input 2");
  // Adjacent ranges do not overlap.
  bindings[3] = vitb::Binding(vitb::BindingKind::Arena, 0, /*offset=*/16, 16);
  EXPECT_EQ(load(withBindings(bindings)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: a CPU artifact without a shared object");
}

TEST(ArtifactVerification, TilesAndLaunchesStayWithinLimits) {
  Spec spec;
  spec.numTiles = 0;
  EXPECT_EQ(refusal(spec), "invalid artifact: kernel 'k' has a tile count "
                           "outside [1, 2^31]");
  spec.numTiles = int64_t(1) << 40;
  EXPECT_EQ(refusal(spec), "invalid artifact: kernel 'k' has a tile count "
                           "outside [1, 2^31]");
  spec = Spec();
  spec.grid = {1, 1};
  EXPECT_EQ(refusal(spec), "invalid artifact: kernel 'k' has no "
                           "3-dimensional launch configuration");
  spec.grid = {1, 65536, 1};
  EXPECT_EQ(refusal(spec), "invalid artifact: kernel 'k' has a grid "
                           "dimension outside the GPU's limits");
  spec.grid = {1, 1, 1};
  spec.block = {32, 32, 2};
  EXPECT_EQ(refusal(spec), "invalid artifact: kernel 'k' has more threads "
                           "per block than a GPU runs");
  spec.block = {0, 1, 1};
  EXPECT_EQ(refusal(spec), "invalid artifact: kernel 'k' has a block "
                           "dimension outside [1, 1024]");
}

TEST(ArtifactVerification, MetadataMatchesTheInput) {
  // An NCHW image input of one 1x2x2 image: 16 bytes, as the bindings say.
  Spec spec;
  spec.inputShape = {1, 1, 2, 2};
  spec.batch = 1;
  spec.inputLayout = "nchw";
  spec.pixelStd = {0.5f};
  EXPECT_EQ(refusal(spec),
            "invalid artifact: a CPU artifact without a shared object");
  spec.batch = 2;
  EXPECT_EQ(refusal(spec), "invalid artifact: the metadata's batch 2 is not "
                           "the input's 1");
  spec.batch = 1;
  spec.inputLayout = "nhwc";
  EXPECT_EQ(refusal(spec), "invalid artifact: the metadata has 1 pixel "
                           "statistics for 2 channels");
  spec.inputLayout = "nchw\n";
  EXPECT_EQ(refusal(spec), "invalid artifact: input layout 'nchw\\0A' does "
                           "not describe a 4-dimensional image input");
  spec.inputLayout = "nchw";
  spec.pixelStd = {0.0f};
  EXPECT_EQ(refusal(spec), "invalid artifact: a pixel standard deviation is "
                           "not positive and finite");
  // The output [4] has 4 classes: four names, or none.
  spec = Spec();
  spec.labels = {"a", "b", "c"};
  EXPECT_EQ(refusal(spec),
            "invalid artifact: the metadata has 3 labels for 4 classes");
  spec.labels.push_back("d");
  EXPECT_EQ(refusal(spec),
            "invalid artifact: a CPU artifact without a shared object");
}

TEST(ArtifactVerification, RefusesCpuFeaturesTheHostLacks) {
  std::vector<uint8_t> code = {'c', 'o', 'd', 'e'};
  // VITRT_CPU_FEATURES hides what it does not list: a CPU with SSE3 only.
  ASSERT_EQ(setenv("VITRT_CPU_FEATURES", "sse3", 1), 0);
  EXPECT_EQ(load(withCode(code, {"sse3", "avx2", "avx512f"})),
            VITRT_ERROR_UNSUPPORTED);
  EXPECT_STREQ(vitrt_last_error(),
               "this artifact needs avx2, avx512f, which this CPU lacks; "
               "recompile with --target cpu:x86-64 or on this machine");
  ASSERT_EQ(unsetenv("VITRT_CPU_FEATURES"), 0);

  EXPECT_EQ(load(withCode(code, {"avx10.9"})), VITRT_ERROR_UNSUPPORTED);
  EXPECT_EQ(std::string(vitrt_last_error())
                .rfind("this artifact needs avx10.9, which this runtime "
                       "cannot test the CPU for; recompile with --target cpu:",
                       0),
            0u)
      << vitrt_last_error();

  // Every x86-64 CPU of this century has SSE3: the check passes and the
  // bytes fail as code.
  EXPECT_EQ(load(withCode(code, {"sse3"})), VITRT_ERROR_EXECUTION);
}

TEST(ArtifactVerification, CudaArtifactWithoutDriverSaysSo) {
  Spec cuda;
  cuda.cuda = true;
  vitrt_status status = load(serialize(cuda));
  void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!driver) {
    EXPECT_EQ(status, VITRT_ERROR_NO_DEVICE);
    EXPECT_EQ(std::string(vitrt_last_error())
                  .rfind("no CUDA driver found: cannot load libcuda.so.1", 0),
              0u)
        << vitrt_last_error();
  } else {
    // With a driver, this artifact fails later: it has no kernel module
    // (or, on a driver without a GPU, no device).
    dlclose(driver);
    EXPECT_TRUE(status == VITRT_ERROR_INVALID_ARTIFACT ||
                status == VITRT_ERROR_NO_DEVICE)
        << vitrt_last_error();
  }
}

TEST(ArtifactVerification, CudaDriverIsChosenByOptionThenEnvironment) {
  Spec cuda;
  cuda.cuda = true;
  std::vector<uint8_t> bytes = serialize(cuda);
  auto failsToLoad = [](const char *path) {
    return std::string("no CUDA driver found: cannot load ") + path + " (";
  };
  // The environment variable replaces the system's driver.
  ASSERT_EQ(setenv("VITRT_CUDA_DRIVER", "/nonexistent/env/libcuda.so", 1), 0);
  EXPECT_EQ(load(bytes), VITRT_ERROR_NO_DEVICE);
  EXPECT_EQ(std::string(vitrt_last_error())
                .rfind(failsToLoad("/nonexistent/env/libcuda.so"), 0),
            0u)
      << vitrt_last_error();
  // The option replaces both.
  vitrt_options options;
  vitrt_options_init(&options);
  EXPECT_EQ(options.cuda_driver, nullptr);
  options.cuda_driver = "/nonexistent/option/libcuda-emulator.so";
  EXPECT_EQ(load(bytes, &options), VITRT_ERROR_NO_DEVICE);
  EXPECT_EQ(
      std::string(vitrt_last_error())
          .rfind(failsToLoad("/nonexistent/option/libcuda-emulator.so"), 0),
      0u)
      << vitrt_last_error();
  ASSERT_EQ(unsetenv("VITRT_CUDA_DRIVER"), 0);
}

TEST(ArtifactVerification, MissingFileIsAnIoError) {
  vitrt_session *session = nullptr;
  EXPECT_EQ(vitrt_session_create_from_file("/nonexistent/model.vitb", nullptr,
                                           &session),
            VITRT_ERROR_IO);
  EXPECT_STREQ(vitrt_last_error(),
               "/nonexistent/model.vitb: No such file or directory");
  EXPECT_EQ(session, nullptr);
}

TEST(ArtifactVerification, OversizedArtifactIsRefusedBeforeTheCopy) {
  // FlatBuffers' offsets are 32-bit: the size is checked before the bytes
  // are copied or read (the buffer here holds one byte), and the message
  // says what is wrong rather than "corrupt or truncated".
  uint8_t byte = 0;
  vitrt_session *session = nullptr;
  EXPECT_EQ(vitrt_session_create_from_memory(&byte, size_t(1) << 60, nullptr,
                                             &session),
            VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: 1152921504606846976 bytes, more than a "
               ".vitb can hold (2 GiB less 2 bytes)");
  EXPECT_EQ(session, nullptr);
}

/// A path in the test's temporary directory.
std::string temporaryPath(const std::string &name) {
  return testing::TempDir() + "vitrt-" + std::to_string(getpid()) + "-" + name;
}

TEST(ArtifactVerification, OversizedFileIsRefusedUnread) {
  // A sparse file: its size costs no disk, and it is never read.
  std::string path = temporaryPath("large.vitb");
  FILE *file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  std::fclose(file);
  ASSERT_EQ(truncate(path.c_str(), off_t(2200) << 20), 0);
  vitrt_session *session = nullptr;
  EXPECT_EQ(vitrt_session_create_from_file(path.c_str(), nullptr, &session),
            VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_EQ(std::string(vitrt_last_error()),
            path + ": 2306867200 bytes, more than a .vitb can hold (2 GiB "
                   "less 2 bytes)");
  EXPECT_EQ(session, nullptr);
  std::remove(path.c_str());
}

TEST(ArtifactVerification, OnlyRegularFilesAreRead) {
  // A directory, a device that never ends and a FIFO without a writer
  // (whose open alone would block) are refused before any read.
  std::string fifo = temporaryPath("fifo.vitb");
  std::remove(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  for (const std::string &path : {testing::TempDir(), std::string("/dev/zero"),
                                  std::string("/dev/null"), fifo}) {
    vitrt_session *session = nullptr;
    EXPECT_EQ(vitrt_session_create_from_file(path.c_str(), nullptr, &session),
              VITRT_ERROR_IO)
        << path;
    EXPECT_EQ(std::string(vitrt_last_error()), path + ": not a regular file");
    EXPECT_EQ(session, nullptr);
  }
  std::remove(fifo.c_str());
}

TEST(ArtifactVerification, ThreadCountsBeyondTheLimitAreRefused) {
  vitrt_options options;
  vitrt_options_init(&options);
  options.num_threads = VITRT_MAX_THREADS + 1;
  EXPECT_EQ(load(serialize(), &options), VITRT_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vitrt_last_error(),
               "num_threads is 8193, more than the 8192 a session takes");
}

TEST(ArtifactVerification, RefusedThreadsAreAnErrorNotAnException) {
#ifdef VITRT_TEST_SANITIZED
  GTEST_SKIP() << "a sanitizer cannot run under an address-space limit";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // 8000 thread stacks do not fit in 256 MiB more: the CPU session's pool
  // cannot start (before the test artifact's stand-in code is loaded), and
  // the C API says so instead of letting std::system_error out.
  EXPECT_EXIT(
      {
        vitrt_test::limitChildAddressSpace(size_t(256) << 20);
        vitrt_options options;
        vitrt_options_init(&options);
        options.num_threads = 8000;
        vitrt_status status = load(serialize(), &options);
        std::fprintf(stderr, "status %d: %s\n", int(status),
                     vitrt_last_error());
        std::_Exit(3);
      },
      testing::ExitedWithCode(3),
      "status 6: cannot start 8000 worker threads: Resource temporarily "
      "unavailable");
}

TEST(ArtifactVerification, NullArgumentsAreRejected) {
  vitrt_session *session = nullptr;
  EXPECT_EQ(vitrt_session_create_from_file(nullptr, nullptr, &session),
            VITRT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vitrt_session_run(nullptr, nullptr, nullptr),
            VITRT_ERROR_INVALID_ARGUMENT);
}

} // namespace
