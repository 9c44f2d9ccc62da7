//===- ArtifactFuzzer.cpp - Fuzzing the .vitb loader ----------------------===//
//
// Feeds the input to vitrt_session_create_from_memory: FlatBuffers
// verification, the consistency checks, the checksums and, for an artifact
// that passes them, the backend's preparation (CPU: the CPU features,
// dlopen of the embedded shared object, the kernel symbols, the arena;
// CUDA: opening the driver, here a path that does not exist, so that no GPU
// driver is ever handed fuzzed bytes). A session is queried through every
// accessor of the C API.
//
// Built twice:
//  - fuzz-artifact takes the bytes as they come. Mutated code, weights or
//    tables stop at the consistency checks or the checksums, which cover
//    every byte; sessions are created from the seeds themselves only.
//  - fuzz-artifact-resealed (VITC_FUZZ_RESEAL) first stores the checksums of
//    the mutated contents (vitb::resealArtifact, what tools/vitb-reseal
//    does), so that artifacts with mutated tables and weights create
//    sessions, and runs them: every dispatch binds exactly its kernel's
//    signature and a kernel clamps its tile range to its own tiles, so a
//    mutated plan may compute nonsense but must not crash. Code never
//    reaches dlopen mutated: an input whose kernel modules do not all match
//    the checksums it came with (those of a seed, written by vitc) stops
//    after the artifact checks (vitrt::loadArtifact), before any backend.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "Artifact.h"
#include "vitc/Artifact/Reseal.h"
#include "vitc/Runtime/vitrt.h"

#include <cstring>
#include <vector>

using namespace vitc::fuzz;

namespace {

/// Reads what a tensor description points to, so that ASan sees a bad one.
size_t touch(const vitrt_tensor_info &info) {
  size_t sum = std::strlen(info.name);
  for (int d = 0; d < info.rank; ++d)
    sum += static_cast<size_t>(info.dims[d]);
  return sum;
}

/// Calls every accessor of the C API, with out-of-range indices too.
void query(const vitrt_session *session) {
  volatile size_t sink = 0;
  vitrt_tensor_info info;
  for (size_t i = 0; i <= vitrt_session_input_count(session); ++i)
    if (vitrt_session_input_info(session, i, &info) == VITRT_OK)
      sink += touch(info);
  for (size_t i = 0; i <= vitrt_session_output_count(session); ++i)
    if (vitrt_session_output_info(session, i, &info) == VITRT_OK)
      sink += touch(info);
  for (const char *text :
       {vitrt_session_target_kind(session), vitrt_session_target_name(session),
        vitrt_session_model_name(session), vitrt_session_input_layout(session),
        vitrt_session_precision(session)})
    sink += std::strlen(text);
  sink += static_cast<size_t>(vitrt_session_macs_per_image(session));
  float values[8];
  sink += vitrt_session_pixel_mean(session, values, 8);
  sink += vitrt_session_pixel_std(session, values, 8);
}

/// Runs `session` once on inputs of a fixed pattern, if its buffers are of
/// a size the fuzzer can allocate.
void run(vitrt_session *session) {
  size_t inputCount = vitrt_session_input_count(session);
  size_t outputCount = vitrt_session_output_count(session);
  std::vector<std::vector<float>> buffers;
  auto allocate = [&](const vitrt_tensor_info &info) {
    size_t elements = 1;
    for (int d = 0; d < info.rank; ++d)
      elements *= size_t(info.dims[d]);
    if (elements > (size_t(1) << 26))
      return false;
    buffers.emplace_back(elements);
    for (size_t i = 0; i < elements; ++i)
      buffers.back()[i] = float(i % 17) / 8.0f - 1.0f;
    return true;
  };
  vitrt_tensor_info info;
  for (size_t i = 0; i < inputCount + outputCount; ++i)
    if ((i < inputCount ? vitrt_session_input_info(session, i, &info)
                        : vitrt_session_output_info(session, i - inputCount,
                                                    &info)) != VITRT_OK ||
        !allocate(info))
      return;
  std::vector<const float *> inputs;
  std::vector<float *> outputs;
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (i < inputCount)
      inputs.push_back(buffers[i].data());
    else
      outputs.push_back(buffers[i].data());
  }
  if (vitrt_session_run(session, inputs.data(), outputs.data()) != VITRT_OK)
    checkErrorMessage(vitrt_last_error());
}

/// Creates a session from `bytes`, queries it, runs it if `execute`, and
/// destroys it.
void createSession(const uint8_t *bytes, size_t size, bool execute) {
  vitrt_options options;
  vitrt_options_init(&options);
  // Two threads: the pool starts a worker and stops it again.
  options.num_threads = 2;
  options.cuda_driver = "/nonexistent/vitc-fuzz/libcuda.so.1";
  vitrt_session *session = nullptr;
  if (vitrt_session_create_from_memory(bytes, size, &options, &session) !=
      VITRT_OK) {
    checkErrorMessage(vitrt_last_error());
    return;
  }
  query(session);
  if (execute)
    run(session);
  vitrt_session_destroy(session);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
#ifndef VITC_FUZZ_RESEAL
  createSession(data, size, /*execute=*/false);
#else
  std::vector<uint8_t> bytes(data, data + size);
  bool codeEdited = false;
  if (vitb::resealArtifact(bytes.data(), bytes.size(), &codeEdited).empty() &&
      !codeEdited) {
    createSession(bytes.data(), bytes.size(), /*execute=*/true);
    return 0;
  }
  // Edited code, or bytes the resealing could not read: the artifact checks
  // only, which never load code.
  vitrt::AlignedBytes copy(bytes.size());
  if (!bytes.empty())
    std::memcpy(copy.data(), bytes.data(), bytes.size());
  vitrt::Artifact artifact;
  if (vitrt::Error error = vitrt::loadArtifact(std::move(copy), artifact))
    checkErrorMessage(error.message);
#endif
  return 0;
}
