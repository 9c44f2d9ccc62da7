//===- Support.cpp - Small helpers shared by vit-run ----------------------===//

#include "Support.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
                      std::string &error, uint64_t maxBytes,
                      std::string_view tooLarge) {
  // O_NONBLOCK, or opening a FIFO would wait for a writer; reads of a
  // regular file ignore it.
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::unique_ptr<int, void (*)(int *)> closer(&fd,
                                               [](int *fd) { close(*fd); });
  struct stat info;
  if (fstat(fd, &info) != 0) {
    error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  // A directory cannot be read, a device or FIFO may never end (/dev/zero)
  // or block: refused before any read.
  if (!S_ISREG(info.st_mode)) {
    error = path + ": not a regular file";
    return false;
  }
  if (uint64_t(info.st_size) > maxBytes) {
    error = path + ": " + std::to_string(info.st_size) + " bytes, " +
            std::string(tooLarge);
    return false;
  }
  bytes.clear();
  char buffer[1 << 16];
  while (true) {
    ssize_t count = read(fd, buffer, sizeof(buffer));
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0) {
      error = path + ": cannot read: " + std::strerror(errno);
      return false;
    }
    if (count == 0)
      return true;
    bytes.append(buffer, count);
  }
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
