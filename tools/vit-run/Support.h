//===- Support.h - Small helpers shared by vit-run --------------*- C++ -*-===//
//
// Shapes, number parsing and file reading for the option parser, the input
// loaders and the .npy reader/writer; vitb-reseal reads and writes its
// artifact with them too. Failures are reported as a bool plus a one-line
// message, which the tool prints after "vit-run: error: " (or
// "vitb-reseal: error: ").
//
//===----------------------------------------------------------------------===//

#ifndef VITRUN_SUPPORT_H
#define VITRUN_SUPPORT_H

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace vitrun {

using Shape = std::vector<int64_t>;

/// Formats as "[1, 3, 224, 224]".
std::string formatShape(const Shape &shape);

/// The element count. Only for shapes from a verified artifact, or shapes
/// already compared equal to one, so the product cannot overflow.
int64_t numElements(const Shape &shape);

/// Parses a plain decimal number (digits only: no sign, space or suffix) no
/// greater than `max`.
bool parseUnsigned(std::string_view text, uint64_t max, uint64_t &value);

/// Reads a whole regular file; the error names the file and the reason. A
/// directory, device or FIFO is refused before anything is read (a read
/// could block or never end), and so is a file of more than `maxBytes`
/// bytes, with "N bytes, " followed by `tooLarge`.
bool readFile(const std::string &path, std::string &bytes, std::string &error,
              uint64_t maxBytes = UINT64_MAX,
              std::string_view tooLarge = "too large");

/// Writes `parts` one after the other as the file `path`; the error names
/// the file and the reason.
bool writeFile(const std::string &path,
               std::initializer_list<std::string_view> parts,
               std::string &error);

/// Splits text into lines without their "\n" or "\r\n"; a final newline does
/// not start another line.
std::vector<std::string_view> splitLines(std::string_view text);

} // namespace vitrun

#endif // VITRUN_SUPPORT_H
