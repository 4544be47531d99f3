#include "vil/output/file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace vil::output {

namespace {

std::expected<void, std::string> fsync_parent(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) parent = ".";
  const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0 || ::fsync(dir) != 0) {
    const int e = errno;
    if (dir >= 0) ::close(dir);
    return std::unexpected(
        fmt::format("cannot fsync the folder of output {}: {}", path, std::strerror(e)));
  }
  ::close(dir);
  return {};
}

// A run killed in the middle of a write (kill -9, a power cut) leaves a
// last line without its end. That line was never confirmed, so it comes
// again: cut it off, or the next run's first line would be glued to it.
std::expected<void, std::string> drop_torn_line(int fd, const std::string& path) {
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size <= 0) return {};
  char last = 0;
  if (::pread(fd, &last, 1, size - 1) != 1 || last == '\n') return {};
  // Back to the end of the last whole line; none: the file is one torn line.
  off_t cut = 0;
  off_t end = size - 1;
  char buffer[4096];
  while (end > 0 && cut == 0) {
    const off_t from = std::max<off_t>(0, end - static_cast<off_t>(sizeof buffer));
    const ssize_t n = ::pread(fd, buffer, static_cast<size_t>(end - from), from);
    if (n <= 0) return {};
    for (ssize_t i = n - 1; i >= 0 && cut == 0; --i) {
      if (buffer[i] == '\n') cut = from + i + 1;
    }
    end = from;
  }
  if (::ftruncate(fd, cut) != 0) {
    return std::unexpected(fmt::format("cannot cut the unfinished last line of output {}: {}", path,
                                       std::strerror(errno)));
  }
  return {};
}

}  // namespace

std::expected<OutputFile, std::string> open_output_file(const std::string& path, bool fsync) {
  if (path == "-") return OutputFile{STDOUT_FILENO, "stdout", false};
  OutputFile file{-1, path, false};
  // Whether this run creates the file decides the folder's fsync: first an
  // exclusive create, then (it was there) a plain open.
  file.fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (file.fd >= 0) {
    file.created = true;
  } else if (errno == EEXIST) {
    file.fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
    if (file.fd < 0 && errno == EACCES)
      file.fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  }
  if (file.fd < 0) {
    return std::unexpected(fmt::format("cannot open output {}: {}", path, std::strerror(errno)));
  }
  struct stat info {};
  if (!file.created && ::fstat(file.fd, &info) == 0 && S_ISREG(info.st_mode)) {
    if (auto mended = drop_torn_line(file.fd, path); !mended) {
      ::close(file.fd);
      return std::unexpected(mended.error());
    }
  }
  if (file.created && fsync) {
    if (auto r = fsync_parent(path); !r) {
      ::close(file.fd);
      return std::unexpected(r.error());
    }
  }
  return file;
}

void close_output_file(const OutputFile& file) {
  if (file.fd >= 0 && file.fd != STDOUT_FILENO) ::close(file.fd);
}

}  // namespace vil::output
