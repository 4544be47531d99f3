#include "vil/output/file_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

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
    file.fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  }
  if (file.fd < 0) {
    return std::unexpected(fmt::format("cannot open output {}: {}", path, std::strerror(errno)));
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
