//===- ModelConfigFuzzer.cpp - Fuzzing the JSON model config --------------===//
//
// The input is a JSON config, applied as `vitc --config` applies one
// (applyJsonOverrides over the defaults), then validated. A config that
// passes gets what vitc computes from it before building anything (the
// derived sizes, the memory estimate of the batch check) and must survive
// the round trip through toJson, which is how an artifact stores it.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "vitc/Frontend/ModelConfig.h"

#include <string>

using namespace vitc::fuzz;

namespace {

void checkError(llvm::Error error) {
  checkErrorMessage(llvm::toString(std::move(error)));
}

bool sameConfig(const vitc::ModelConfig &a, const vitc::ModelConfig &b) {
  return a.name == b.name && a.imageSize == b.imageSize &&
         a.patchSize == b.patchSize && a.channels == b.channels &&
         a.hiddenSize == b.hiddenSize && a.depth == b.depth &&
         a.numHeads == b.numHeads && a.mlpDim == b.mlpDim &&
         a.numClasses == b.numClasses && a.qkvBias == b.qkvBias &&
         a.layerNormEps == b.layerNormEps && a.inputLayout == b.inputLayout &&
         a.kernelLayout == b.kernelLayout && a.gelu == b.gelu &&
         a.pixelMean == b.pixelMean && a.pixelStd == b.pixelStd;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  vitc::ModelConfig config;
  llvm::Error error = vitc::applyJsonOverrides(config, text);
  if (!error)
    error = config.validate();
  if (error) {
    checkError(std::move(error));
    return 0;
  }

  volatile double sink = config.minimumRunBytes(1);
  sink = config.minimumRunBytes(int64_t(1) << 40);
  sink = config.parameterBytes();
  sink = double(config.numTokens()) + double(config.headDim());

  std::string json = vitc::toJson(config);
  vitc::ModelConfig reread;
  if (llvm::Error reject = vitc::applyJsonOverrides(reread, json)) {
    llvm::consumeError(std::move(reject));
    violated("toJson wrote a config applyJsonOverrides refuses", json);
  }
  if (!sameConfig(config, reread))
    violated("the config changed in the round trip through toJson", json);
  return 0;
}
