//===- Npy.cpp - Reading and writing NumPy .npy files ---------------------===//
//
// Format:
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

using namespace vitrun;

// Array data is copied to and from host floats byte for byte.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "vit-run assumes a little-endian host");

static constexpr std::string_view kMagic = "\x93NUMPY";

/// The text after `'key':` in a header dict such as
///   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }
static std::optional<std::string_view> findField(std::string_view dict,
                                                 std::string_view key) {
  for (char quote : {'\'', '"'}) {
    std::string quoted = quote + std::string(key) + quote;
    size_t pos = dict.find(quoted);
    if (pos == std::string_view::npos)
      continue;
    pos = dict.find_first_not_of(' ', pos + quoted.size());
    if (pos == std::string_view::npos || dict[pos] != ':')
      return std::nullopt;
    pos = dict.find_first_not_of(' ', pos + 1);
    if (pos == std::string_view::npos)
      return std::nullopt;
    return dict.substr(pos);
  }
  return std::nullopt;
}

/// Parses the 'shape' tuple at the start of `text`; false with `problem`
/// ("" if it is not a tuple of dimensions at all) if it cannot.
static bool parseShape(std::string_view text, Shape &shape,
                       std::string &problem) {
  problem.clear();
  size_t close = text.find(')');
  if (text.empty() || text[0] != '(' || close == std::string_view::npos)
    return false;
  std::string_view items = text.substr(1, close - 1);
  shape.clear();
  while (!items.empty()) {
    size_t comma = items.find(',');
    std::string_view item = items.substr(0, comma);
    items.remove_prefix(comma == std::string_view::npos ? items.size()
                                                        : comma + 1);
    size_t begin = item.find_first_not_of(' ');
    if (begin == std::string_view::npos) {
      // Only a tuple's trailing comma may leave an empty item: "(3,)".
      if (!items.empty())
        return false;
      break;
    }
    item = item.substr(begin, item.find_last_not_of(' ') - begin + 1);
    uint64_t dim;
    if (parseUnsigned(item, INT64_MAX, dim)) {
      shape.push_back(static_cast<int64_t>(dim));
      continue;
    }
    // Say why a number is no dimension; the item is digits (and a sign),
    // so it prints as it is, shortened if long.
    bool negative = item.front() == '-';
    std::string_view digits = item.substr(negative ? 1 : 0);
    if (digits.empty() ||
        digits.find_first_not_of("0123456789") != std::string_view::npos)
      return false;
    std::string shown(item.substr(0, 24));
    if (item.size() > shown.size())
      shown += "... (" + std::to_string(digits.size()) + " digits)";
    problem =
        negative ? "negative dimension " + shown + " in 'shape'"
                 : "dimension " + shown + " in 'shape' is larger than 2^63 - 1";
    return false;
  }
  return true;
}

bool vitrun::parseNpyHeader(std::string_view bytes, NpyHeader &header,
                            std::string &error) {
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    error = "not a .npy file (no \\x93NUMPY magic)";
    return false;
  }
  // Version 1 stores the header length in 2 bytes, versions 2 and 3 in 4.
  size_t lengthBytes = 0;
  if (bytes.size() > 7) {
    if (bytes[6] == 1)
      lengthBytes = 2;
    else if (bytes[6] == 2 || bytes[6] == 3)
      lengthBytes = 4;
    else {
      error = "unsupported .npy format version " +
              std::to_string(static_cast<unsigned char>(bytes[6])) + "." +
              std::to_string(static_cast<unsigned char>(bytes[7]));
      return false;
    }
  }
  size_t prefix = kMagic.size() + 2 + lengthBytes;
  if (lengthBytes == 0 || bytes.size() < prefix) {
    error = "truncated .npy header";
    return false;
  }
  size_t length = 0;
  for (size_t i = 0; i < lengthBytes; ++i)
    length |= size_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  if (bytes.size() - prefix < length) {
    error = "truncated .npy header";
    return false;
  }
  std::string_view dict = bytes.substr(prefix, length);
  header.dataOffset = prefix + length;

  std::optional<std::string_view> descr = findField(dict, "descr");
  char quote = descr && !descr->empty() ? descr->front() : '\0';
  size_t descrEnd = quote == '\'' || quote == '"' ? descr->find(quote, 1)
                                                  : std::string_view::npos;
  if (descrEnd == std::string_view::npos) {
    error = "malformed .npy header: no 'descr' string";
    return false;
  }
  header.descr = std::string(descr->substr(1, descrEnd - 1));

  std::optional<std::string_view> fortran = findField(dict, "fortran_order");
  if (!fortran ||
      (fortran->substr(0, 4) != "True" && fortran->substr(0, 5) != "False")) {
    error = "malformed .npy header: no 'fortran_order' True or False";
    return false;
  }
  header.fortranOrder = fortran->substr(0, 4) == "True";

  std::optional<std::string_view> shape = findField(dict, "shape");
  std::string problem;
  if (!shape || !parseShape(*shape, header.shape, problem)) {
    error = "malformed .npy header: " +
            (problem.empty() ? "no 'shape' tuple" : problem);
    return false;
  }
  return true;
}

bool vitrun::writeNpy(const std::string &path, const Shape &shape,
                      const float *data, std::string &error) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i)
    dict += (i ? ", " : "") + std::to_string(shape[i]);
  dict += shape.size() == 1 ? ",), }" : "), }";
  // Spaces and a newline pad the header to a multiple of 64 bytes, as NumPy
  // does, so the data is aligned for memory mapping.
  size_t prefix = kMagic.size() + 2 + 2;
  dict.append((64 - (prefix + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';

  std::string header(kMagic);
  header += {'\x01', '\x00', static_cast<char>(dict.size() & 0xff),
             static_cast<char>(dict.size() >> 8)};
  header += dict;

  std::string_view body(reinterpret_cast<const char *>(data),
                        numElements(shape) * sizeof(float));
  return writeFile(path, {header, body}, error);
}
