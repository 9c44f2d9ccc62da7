//===- NpyFuzzer.cpp - Fuzzing vit-run's .npy reader ----------------------===//
//
// The input is a .npy file. It is parsed (parseNpyHeader) and read as vit-run
// reads `--input x.npy` (decodeInput) for a fixed model input and, when the
// header parses, for model inputs of the header's own shape with and
// without a batch dimension of 1, so that the data checks are reached too.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "Inputs.h"
#include "Npy.h"

using namespace vitc::fuzz;
using namespace vitrun;

namespace {

/// Model inputs above this many elements are not tried: a header can claim
/// any shape, and the harness, unlike vit-run, takes it from the file.
constexpr int64_t kMaxElements = 1 << 20;

bool isSmall(const Shape &shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    if (dim < 0 || __builtin_mul_overflow(count, dim, &count) ||
        count > kMaxElements)
      return false;
  return true;
}

void read(std::string_view bytes, const Shape &dims) {
  InputSpec spec;
  spec.dims = dims;
  std::vector<float> data;
  std::string detail, error;
  if (!decodeInput(bytes, "npy", spec, data, detail, error))
    checkErrorMessage(error);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  read(bytes, {1, 3, 4, 4});
  NpyHeader header;
  std::string error;
  if (!parseNpyHeader(bytes, header, error)) {
    checkErrorMessage(error);
    return 0;
  }
  if (header.dataOffset > bytes.size())
    violated("data offset beyond the file", bytes.substr(0, 16));
  if (!isSmall(header.shape))
    return 0;
  read(bytes, header.shape);
  Shape batched = header.shape;
  batched.insert(batched.begin(), 1);
  read(bytes, batched);
  return 0;
}
