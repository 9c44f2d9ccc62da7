//===- InputFiles.cpp - Reading the compiler's input files safely ---------===//

#include "vitc/Support/InputFiles.h"

#include "llvm/Support/FileSystem.h"

using namespace llvm;

Error vitc::checkRegularFile(const std::string &path) {
  sys::fs::file_status status;
  if (std::error_code error = sys::fs::status(path, status))
    return createStringError(path + ": " + error.message());
  // As the runtime and vit-run say it, for a directory too.
  if (status.type() != sys::fs::file_type::regular_file)
    return createStringError(path + ": not a regular file");
  return Error::success();
}

Expected<std::unique_ptr<MemoryBuffer>>
vitc::readInputFile(const std::string &path, bool requiresNullTerminator) {
  if (Error error = checkRegularFile(path))
    return std::move(error);
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false, requiresNullTerminator);
  if (!buffer)
    return createStringError(path + ": " + buffer.getError().message());
  return std::move(*buffer);
}

Error vitc::checkNestingDepth(StringRef text) {
  size_t depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (c == '"') {
      // Skip the string, escapes included.
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
    } else if (c == '/' && next == '/') {
      i = text.find('\n', i);
      if (i == StringRef::npos)
        break;
    } else if (c == '(' || c == '[' || c == '{' || c == '<') {
      if (++depth > kMaxNestingDepth)
        return createStringError("brackets nested more than " +
                                 std::to_string(kMaxNestingDepth) +
                                 " levels deep");
    } else if (c == ')' || c == ']' || c == '}' ||
               (c == '>' && next != '=' && (i == 0 || text[i - 1] != '-'))) {
      // MLIR's `->` and `>=` close nothing; stray closers are the parser's
      // to report.
      depth -= depth > 0;
    }
  }
  return Error::success();
}

Expected<json::Value> vitc::parseJson(StringRef text) {
  if (Error error = checkNestingDepth(text))
    return std::move(error);
  return json::parse(text);
}
