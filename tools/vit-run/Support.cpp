//===- Support.cpp - Small helpers shared by vit-run ----------------------===//

#include "Support.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

using namespace vitrun;

std::string vitrun::formatShape(const Shape &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

int64_t vitrun::numElements(const Shape &shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

bool vitrun::parseUnsigned(std::string_view text, uint64_t max,
                           uint64_t &value) {
  if (text.empty())
    return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    uint64_t digit = c - '0';
    if (digit > max || value > (max - digit) / 10)
      return false;
    value = value * 10 + digit;
  }
  return true;
}

bool vitrun::readFile(const std::string &path, std::string &bytes,
                      std::string &error) {
  std::unique_ptr<std::FILE, int (*)(std::FILE *)> file(
      std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  bytes.clear();
  char buffer[1 << 16];
  while (size_t count = std::fread(buffer, 1, sizeof(buffer), file.get()))
    bytes.append(buffer, count);
  // fopen succeeds on a directory; reading it fails with EISDIR.
  if (std::ferror(file.get())) {
    error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  return true;
}

bool vitrun::writeFile(const std::string &path,
                       std::initializer_list<std::string_view> parts,
                       std::string &error) {
  std::FILE *file = std::fopen(path.c_str(), "wb");
  if (!file) {
    error = path + ": cannot write: " + std::strerror(errno);
    return false;
  }
  bool written = true;
  for (std::string_view part : parts)
    written = written &&
              std::fwrite(part.data(), 1, part.size(), file) == part.size();
  // fclose flushes, so it can be the call that finds a full disk.
  if (std::fclose(file) != 0 || !written) {
    error = path + ": cannot write: " + std::strerror(errno);
    return false;
  }
  return true;
}

std::vector<std::string_view> vitrun::splitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    lines.push_back(line);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  return lines;
}
