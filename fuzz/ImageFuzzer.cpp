//===- ImageFuzzer.cpp - Fuzzing vit-run's image decoding -----------------===//
//
// The input is an image file, read as vit-run reads `--input x.png`
// (decodeInput; PNG and JPEG are told apart by content, whatever the
// extension): decoded by libspng or libjpeg-turbo, converted to the model's
// channel count, resized and normalised, for model inputs of 1 to 4
// channels in both layouts, since each count takes its own conversion.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "Inputs.h"

using namespace vitc::fuzz;
using namespace vitrun;

namespace {

InputSpec makeSpec(Shape dims, bool channelsLast) {
  InputSpec spec;
  int64_t channels = dims[channelsLast ? 3 : 1];
  spec.dims = std::move(dims);
  spec.channelsLast = channelsLast;
  spec.mean.assign(channels, 0.5f);
  spec.std.assign(channels, 0.25f);
  // vit-run's 2^26 pixels take seconds to decode under ASan; the check is
  // the same code at 2^20, and the fuzzer stays fast.
  spec.maxImagePixels = int64_t(1) << 20;
  return spec;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const InputSpec specs[] = {
      makeSpec({1, 3, 7, 9}, /*channelsLast=*/false),
      makeSpec({2, 5, 4, 1}, /*channelsLast=*/true),
      makeSpec({1, 2, 3, 3}, /*channelsLast=*/false),
      makeSpec({1, 2, 2, 4}, /*channelsLast=*/true),
  };
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  std::vector<float> values;
  std::string detail, error;
  for (const InputSpec &spec : specs)
    if (!decodeInput(bytes, "png", spec, values, detail, error)) {
      checkErrorMessage(error);
      // The first failure says it all: the decoder fails alike for every
      // channel count, and a fuzzer spends its time on decodable inputs.
      return 0;
    }
  return 0;
}
