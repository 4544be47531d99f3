#pragma once
// FileSink: the at-least-once file writer of `vil-cdc stream`, for any owner
// of a CdcTrigger. It encodes each change as a line (ChangeEncoder),
// buffers, and writes on flush(), which the trigger calls before it confirms
// an LSN: a change is confirmed to the server only after its line was
// written (and fsynced, with `fsync`). Calls come from the thread running
// the trigger's start(), as for every ChangeSink; `changes()` may be read
// from any thread.

#include <atomic>
#include <cstdint>
#include <expected>
#include <functional>
#include <string>

#include "vil/cdc/change.hpp"
#include "vil/output/change_encoder.hpp"

namespace vil::output {

// Where the lines go: stdout, or a file appended to.
struct OutputFile {
  int fd = -1;           // STDOUT_FILENO for "-"
  std::string name;      // "stdout" or the path, for messages
  bool created = false;  // this call created the file
};

// Opens `path` ("-" is stdout) for appending, creating it when missing. With
// `fsync`, a file this call created has its folder fsynced once, right away:
// fdatasync makes a file's data durable, not the folder entry naming it, and
// without that a crash could lose a file whose lines were already confirmed.
// The error names the path and the system's reason.
[[nodiscard]] std::expected<OutputFile, std::string> open_output_file(const std::string& path,
                                                                      bool fsync);
// Closes what open_output_file() opened (never stdout).
void close_output_file(const OutputFile& file);

struct FileSinkOptions {
  bool fsync = false;  // fdatasync a regular file at each flush()
  // The first `max_changes` changes are written (0: no limit); then the run
  // must end with the transaction of the last one confirmed if it was
  // written whole, and not confirmed if it was cut short (it comes again,
  // whole, next time). So `on_limit` (which should stop the trigger) runs
  // once: at that transaction's Commit, or at the next change of it, which
  // is then not written; at once after a change outside any transaction.
  uint64_t max_changes = 0;
  std::function<void()> on_limit;
};

class FileSink final : public cdc::ChangeSink {
 public:
  // `fd` is borrowed; `name` names it in messages.
  FileSink(int fd, std::string name, ChangeEncoder encoder, FileSinkOptions options = {});

  // What cannot be written (a full disk, a failed fsync) throws, which ends
  // the trigger's run with DeliveryFailed and nothing confirmed past it.
  void on_change(const cdc::Change& change) override;
  void on_commit(const cdc::TransactionEnd& transaction) override;
  void flush() override;

  // Changes encoded so far.
  [[nodiscard]] uint64_t changes() const { return changes_.load(std::memory_order_relaxed); }
  [[nodiscard]] const ChangeEncoder& encoder() const { return encoder_; }
  // The reader of a pipe went away (`vil-cdc stream | head`): for the owner
  // to treat as the end rather than an error.
  [[nodiscard]] bool reader_gone() const { return reader_gone_; }

 private:
  void write_out();
  void reach_limit();

  int fd_;
  std::string name_;
  bool regular_file_;
  ChangeEncoder encoder_;
  FileSinkOptions options_;
  bool limit_reached_ = false;  // the last change allowed was written
  bool limit_called_ = false;
  std::string buffer_;
  std::atomic<uint64_t> changes_{0};
  bool reader_gone_ = false;
};

}  // namespace vil::output
