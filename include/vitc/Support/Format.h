//===- Format.h - Text shared by diagnostics and reports --------*- C++ -*-===//

#ifndef VITC_SUPPORT_FORMAT_H
#define VITC_SUPPORT_FORMAT_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <string>

namespace vitc {

/// Renders a shape as "[2304, 768]", the notation of every vitc message.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

} // namespace vitc

#endif // VITC_SUPPORT_FORMAT_H
