//===- Safetensors.h - Reading and writing .safetensors files ---*- C++ -*-===//
//
// The format: an 8-byte little-endian header length N, N bytes of JSON
// mapping tensor names to {dtype, shape, data_offsets}, then the tensor
// bytes. Readers here check every field before touching tensor data, so a
// truncated or corrupt file is reported instead of read out of bounds.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_FRONTEND_SAFETENSORS_H
#define VITC_FRONTEND_SAFETENSORS_H

#include "vitc/Frontend/Weights.h"

#include "llvm/Support/Error.h"

#include <cstddef>
#include <map>
#include <string>

namespace vitc {

/// Parses safetensors bytes. Floating tensors (F32, F16, BF16, F64) are
/// converted to fp32; any other dtype is an error naming the tensor.
/// `origin` names the source (usually the path): every error is one line
/// starting with "<origin>: ".
llvm::Expected<std::map<std::string, Tensor>>
parseSafetensors(const char *bytes, size_t size, const std::string &origin);

/// Reads and parses a safetensors file.
llvm::Expected<std::map<std::string, Tensor>>
readSafetensors(const std::string &path);

/// Writes `tensors` as F32 safetensors, names in sorted order. Fails if the
/// file cannot be written or a tensor's data does not match its shape.
llvm::Error writeSafetensors(const std::string &path,
                             const std::map<std::string, Tensor> &tensors);

} // namespace vitc

#endif // VITC_FRONTEND_SAFETENSORS_H
