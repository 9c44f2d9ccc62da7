//===- SafetensorsFuzzer.cpp - Fuzzing the safetensors reader -------------===//
//
// The input is a .safetensors file, parsed as `vitc --weights` parses one
// (parseSafetensors). A failure must be one line; a success must hold, for
// every tensor, as many values as its shape has elements.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "vitc/Frontend/Safetensors.h"

using namespace vitc::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::Expected<std::map<std::string, vitc::Tensor>> tensors =
      vitc::parseSafetensors(reinterpret_cast<const char *>(data), size,
                             "fuzz.safetensors");
  if (!tensors) {
    checkErrorMessage(llvm::toString(tensors.takeError()));
    return 0;
  }
  for (const auto &[name, tensor] : *tensors)
    if (tensor.data.size() != static_cast<size_t>(tensor.numElements()))
      violated("a tensor's values do not match its shape", name);
  return 0;
}
