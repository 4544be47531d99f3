#include "vil/output/file_sink.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace vil::output {

namespace {
// Lines are written in blocks of about this size between flushes.
constexpr size_t kWriteBlock = 256u << 10;
}  // namespace

FileSink::FileSink(int fd, std::string name, ChangeEncoder encoder, FileSinkOptions options)
    : fd_(fd), name_(std::move(name)), encoder_(std::move(encoder)), options_(std::move(options)) {
  struct stat st {};
  regular_file_ = fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  buffer_.reserve(kWriteBlock * 2);
}

void FileSink::on_change(const cdc::Change& change) {
  if (reader_gone_) throw std::runtime_error("the output was closed by its reader");
  if (limit_reached_) {
    // The Nth change's transaction goes on past it: stop before its Commit,
    // so that it is not confirmed; this change is not written.
    reach_limit();
    return;
  }
  encoder_.encode(change, buffer_);
  const uint64_t n = changes_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (buffer_.size() >= kWriteBlock) write_out();
  if (options_.max_changes != 0 && n == options_.max_changes) {
    limit_reached_ = true;
    // A change outside any transaction has no Commit to wait for.
    if (!change.in_transaction()) reach_limit();
  }
}

void FileSink::on_commit(const cdc::TransactionEnd& /*transaction*/) {
  // The Nth change was its transaction's last: the trigger takes this
  // Commit in before it looks at the stop, so the transaction is confirmed.
  if (limit_reached_) reach_limit();
}

void FileSink::reach_limit() {
  if (limit_called_) return;
  limit_called_ = true;
  if (options_.on_limit) options_.on_limit();
}

void FileSink::flush() {
  write_out();
  if (options_.fsync && regular_file_ && fdatasync(fd_) != 0) {
    throw std::runtime_error(fmt::format("fsync of {} failed: {}", name_, std::strerror(errno)));
  }
}

void FileSink::write_out() {
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) {
        reader_gone_ = true;
        throw std::runtime_error("the output was closed by its reader");
      }
      throw std::runtime_error(
          fmt::format("writing to {} failed: {}", name_, std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
}

}  // namespace vil::output
