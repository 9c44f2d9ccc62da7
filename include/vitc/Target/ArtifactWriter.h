//===- ArtifactWriter.h - Serialize a compiled model to .vitb ---*- C++ -*-===//

#ifndef VITC_TARGET_ARTIFACTWRITER_H
#define VITC_TARGET_ARTIFACTWRITER_H

#include "vitc/Frontend/Weights.h"
#include "vitc/Target/ExecutionPlan.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vitc {

/// Version of the .vitb layout this compiler writes (see vitb.fbs).
inline constexpr uint32_t kArtifactFormatVersion = 1;

enum class ModuleFormat { ElfSharedObject, Ptx, Cubin };

struct ArtifactModule {
  ModuleFormat format;
  /// "x86_64", "sm_90", ...
  std::string target;
  std::vector<uint8_t> data;
};

struct ArtifactKernel {
  std::string name;
  std::string symbol;
  int64_t numTiles = 1;
  std::array<int64_t, 3> grid = {1, 1, 1};
  std::array<int64_t, 3> block = {1, 1, 1};
  int64_t sharedMemoryBytes = 0;
  int64_t multiplyAccumulates = 0;
};

struct ArtifactTensor {
  std::string name;
  std::vector<int64_t> dims;
};

struct ArtifactMetadata {
  std::string model;
  int64_t parameters = 0;
  int64_t multiplyAccumulatesPerImage = 0;
  int64_t batch = 0;
  std::string inputLayout;
  std::vector<float> pixelMean, pixelStd;
  std::string compilerVersion;
  std::string compileOptions;
  std::string configJson;
};

struct ArtifactContents {
  bool cuda = false;
  std::string targetName;
  std::vector<ArtifactModule> modules;
  std::vector<ArtifactKernel> kernels;
  ExecutionPlan plan;
  /// Constants in plan order: `constants[i]` is what Constant bindings with
  /// index i read.
  std::vector<std::string> constantNames;
  std::vector<Tensor> constants;
  std::vector<ArtifactTensor> inputs, outputs;
  ArtifactMetadata metadata;
};

/// Serializes `contents` as a FlatBuffers .vitb file at `path`. Every
/// dispatch must call a kernel listed in `contents.kernels`.
bool writeArtifact(const ArtifactContents &contents, const std::string &path,
                   std::string &error);

} // namespace vitc

#endif // VITC_TARGET_ARTIFACTWRITER_H
