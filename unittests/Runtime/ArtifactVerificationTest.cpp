//===- ArtifactVerificationTest.cpp - vitrt rejects bad artifacts ---------===//
//
// Artifacts are written with the compiler's writer, then damaged; the
// runtime must report each problem with the right status and never crash.
//
//===----------------------------------------------------------------------===//

#include "vitc/Runtime/vitrt.h"
#include "vitc/Target/ArtifactWriter.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <dlfcn.h>

#include <cstring>
#include <string>
#include <vector>

using namespace vitc;

namespace {

/// One kernel reading the input and a constant and writing the output.
ArtifactContents smallArtifact(bool cuda) {
  ArtifactContents contents;
  contents.cuda = cuda;
  contents.targetName = cuda ? "sm_90" : "x86_64";
  contents.kernels.push_back({"k", "k"});
  PlannedDispatch dispatch{"k",
                           {{PlannedBinding::Kind::Input, 0, 0, 16},
                            {PlannedBinding::Kind::Constant, 0, 0, 16},
                            {PlannedBinding::Kind::Arena, 0, 0, 16},
                            {PlannedBinding::Kind::Output, 0, 0, 16}}};
  contents.plan.dispatches.push_back(dispatch);
  contents.plan.arenaBytes = 256;
  contents.constantNames = {"c"};
  contents.constants = {Tensor{{4}, {1, 2, 3, 4}}};
  contents.inputs = {{"image", {4}}};
  contents.outputs = {{"logits", {4}}};
  contents.metadata.model = "test";
  return contents;
}

std::vector<uint8_t> serialize(const ArtifactContents &contents) {
  llvm::SmallString<128> path;
  EXPECT_FALSE(llvm::sys::fs::createTemporaryFile("artifact", "vitb", path));
  std::string error;
  EXPECT_TRUE(writeArtifact(contents, path.str().str(), error)) << error;
  auto buffer = llvm::MemoryBuffer::getFile(path);
  llvm::sys::fs::remove(path);
  return {buffer.get()->getBufferStart(), buffer.get()->getBufferEnd()};
}

vitrt_status load(const std::vector<uint8_t> &bytes) {
  vitrt_session *session = nullptr;
  vitrt_status status = vitrt_session_create_from_memory(
      bytes.data(), bytes.size(), nullptr, &session);
  vitrt_session_destroy(session);
  return status;
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
  std::vector<uint8_t> bytes = serialize(smallArtifact(/*cuda=*/false));
  // Any prefix is rejected as invalid (not accepted, not a crash).
  for (size_t size = 0; size < bytes.size(); size += 7) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + size);
    EXPECT_EQ(load(prefix), VITRT_ERROR_INVALID_ARTIFACT) << size;
  }
}

TEST(ArtifactVerification, RejectsNewerFormatVersions) {
  ArtifactContents contents = smallArtifact(/*cuda=*/false);
  std::vector<uint8_t> bytes = serialize(contents);
  // The version is the first field written by the writer; find it by
  // value next to the identifier-free table data and bump it.
  bool patched = false;
  for (size_t i = 8; i + 4 <= bytes.size() && !patched; i += 4) {
    uint32_t value;
    std::memcpy(&value, &bytes[i], 4);
    if (value == kArtifactFormatVersion) {
      uint32_t newer = kArtifactFormatVersion + 1;
      std::vector<uint8_t> candidate = bytes;
      std::memcpy(&candidate[i], &newer, 4);
      if (load(candidate) == VITRT_ERROR_UNSUPPORTED) {
        patched = true;
        EXPECT_STREQ(vitrt_last_error(),
                     "artifact format version 2 is not supported by this "
                     "runtime (it reads version 1)");
      }
    }
  }
  EXPECT_TRUE(patched);
}

TEST(ArtifactVerification, RejectsBindingsOutOfBounds) {
  ArtifactContents contents = smallArtifact(/*cuda=*/false);
  contents.plan.dispatches[0].bindings[2].offset = 250;
  EXPECT_EQ(load(serialize(contents)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(), "invalid artifact: dispatch 0: arena "
                                   "binding outside the arena");

  contents = smallArtifact(/*cuda=*/false);
  contents.plan.dispatches[0].bindings[1].index = 3;
  EXPECT_EQ(load(serialize(contents)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: dispatch 0: bad constant binding");

  contents = smallArtifact(/*cuda=*/false);
  contents.plan.dispatches[0].bindings[0].size = 8;
  EXPECT_EQ(load(serialize(contents)), VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: dispatch 0: bad input binding");
}

TEST(ArtifactVerification, CpuArtifactNeedsItsSharedObject) {
  EXPECT_EQ(load(serialize(smallArtifact(/*cuda=*/false))),
            VITRT_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(vitrt_last_error(),
               "invalid artifact: a CPU artifact without a shared object");
}

TEST(ArtifactVerification, CudaArtifactWithoutDriverSaysSo) {
  vitrt_status status = load(serialize(smallArtifact(/*cuda=*/true)));
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

TEST(ArtifactVerification, MissingFileIsAnIoError) {
  vitrt_session *session = nullptr;
  EXPECT_EQ(vitrt_session_create_from_file("/nonexistent/model.vitb", nullptr,
                                           &session),
            VITRT_ERROR_IO);
  EXPECT_STREQ(vitrt_last_error(),
               "/nonexistent/model.vitb: No such file or directory");
  EXPECT_EQ(session, nullptr);
}

TEST(ArtifactVerification, NullArgumentsAreRejected) {
  vitrt_session *session = nullptr;
  EXPECT_EQ(vitrt_session_create_from_file(nullptr, nullptr, &session),
            VITRT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vitrt_session_run(nullptr, nullptr, nullptr),
            VITRT_ERROR_INVALID_ARGUMENT);
}

} // namespace
