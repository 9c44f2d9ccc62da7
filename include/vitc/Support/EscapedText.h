//===- EscapedText.h - File text fit for a one-line message -----*- C++ -*-===//
//
// Errors are one line naming what was wrong, and the name often comes from
// the file being read (a dtype, a constant, a kernel symbol). Copied raw, a
// newline in it would forge a second line of output. Plain C++, header-only:
// the runtime and vit-run use it without a library.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_SUPPORT_ESCAPEDTEXT_H
#define VITC_SUPPORT_ESCAPEDTEXT_H

#include <string>
#include <string_view>

namespace vitc {

/// `text` with every byte outside printable ASCII, and every backslash and
/// double quote, written as a backslash and two hex digits: what
/// llvm::printEscapedString writes for the compiler's messages.
inline std::string escapedText(std::string_view text) {
  static const char digits[] = "0123456789ABCDEF";
  std::string escaped;
  escaped.reserve(text.size());
  for (unsigned char c : text)
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
      escaped += static_cast<char>(c);
    else
      escaped += {'\\', digits[c >> 4], digits[c & 15]};
  return escaped;
}

} // namespace vitc

#endif // VITC_SUPPORT_ESCAPEDTEXT_H
