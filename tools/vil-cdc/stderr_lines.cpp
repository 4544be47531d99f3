#include "stderr_lines.hpp"

#include <unistd.h>

#include <cerrno>

namespace vil::cli {

namespace {
constexpr std::string_view kEraseLine = "\r\033[K";
}  // namespace

void StderrLines::write_all(std::string_view bytes) {
  // write(2) rather than stdio: one call per piece, nothing buffered that a
  // thread printing through stdio could interleave with.
  while (!bytes.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // stderr is gone: nothing better to do
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void StderrLines::print(std::string_view lines) {
  std::lock_guard lock(mutex_);
  std::string out;
  if (drawn_) out.append(kEraseLine);
  out.append(lines);
  if (drawn_) {
    out.append(kEraseLine);
    out.append(status_);
  }
  write_all(out);
}

void StderrLines::set_status(std::string text) {
  std::lock_guard lock(mutex_);
  status_ = std::move(text);
  std::string out(kEraseLine);
  out.append(status_);
  write_all(out);
  drawn_ = true;
}

void StderrLines::end_status() {
  std::lock_guard lock(mutex_);
  if (drawn_) write_all("\n");
  drawn_ = false;
  status_.clear();
}

StderrLines& stderr_lines() {
  static StderrLines lines;
  return lines;
}

}  // namespace vil::cli
