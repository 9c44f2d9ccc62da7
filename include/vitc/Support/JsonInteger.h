//===- JsonInteger.h - A JSON number as an int64_t, safely ------*- C++ -*-===//
//
// llvm::json::Value::getAsInteger accepts a double when it lies within
// [double(INT64_MIN), double(INT64_MAX)], but double(INT64_MAX) rounds up to
// 2^63, so 9223372036854775808.0 passes and converting it is undefined
// behaviour (found by fuzz-model-config). Every integer vitc reads from JSON
// (config overrides, model folders, safetensors headers) goes through here.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_SUPPORT_JSONINTEGER_H
#define VITC_SUPPORT_JSONINTEGER_H

#include "llvm/Support/JSON.h"

#include <cstdint>
#include <optional>

namespace vitc {

/// `value` as an int64_t if it is an integer, or a double with an integral
/// value in [-2^63, 2^63); none otherwise.
inline std::optional<int64_t> jsonInteger(const llvm::json::Value &value) {
  // Only a double (not an integer, which getAsUINT64 returns when it is not
  // negative) can reach 2^63 and beyond; below -2^63 getAsInteger refuses.
  constexpr double kTwoTo63 = 9223372036854775808.0;
  std::optional<double> number = value.getAsNumber();
  if (number && *number >= kTwoTo63 && !value.getAsUINT64())
    return std::nullopt;
  return value.getAsInteger();
}

} // namespace vitc

#endif // VITC_SUPPORT_JSONINTEGER_H
