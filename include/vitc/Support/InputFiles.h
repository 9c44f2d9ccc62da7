//===- InputFiles.h - Reading the compiler's input files safely -*- C++ -*-===//
//
// Every file vitc reads (configs, model folders, weights, labels, .mlir) is
// a regular file read whole, and the JSON and MLIR parsers recurse once per
// level of nesting. So a device such as /dev/zero or a FIFO would be read
// forever, and a document of tens of thousands of nested brackets would
// overflow the stack; both are refused here with a one-line error instead.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_SUPPORT_INPUTFILES_H
#define VITC_SUPPORT_INPUTFILES_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstddef>
#include <memory>
#include <string>

namespace vitc {

/// The deepest nesting of brackets that inputs may have: far more than any
/// model config, safetensors header or vit module needs (a handful of
/// levels), far less than what exhausts the parsers' stack (thousands).
constexpr size_t kMaxNestingDepth = 256;

/// Fails with "<path>: <reason>" unless `path` is a regular file.
llvm::Error checkRegularFile(const std::string &path);

/// The contents of the regular file `path`; errors are "<path>: <reason>".
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readInputFile(const std::string &path, bool requiresNullTerminator = true);

/// Fails if `text` nests brackets ((, [, { or <, outside double-quoted
/// strings and // comments) more than kMaxNestingDepth levels deep.
llvm::Error checkNestingDepth(llvm::StringRef text);

/// llvm::json::parse after checkNestingDepth.
llvm::Expected<llvm::json::Value> parseJson(llvm::StringRef text);

} // namespace vitc

#endif // VITC_SUPPORT_INPUTFILES_H
