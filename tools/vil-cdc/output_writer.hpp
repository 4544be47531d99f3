#pragma once
// The Data-lane sink of vil-cdc: encodes each change as a line, buffers, and
// writes on flush(), which the trigger calls before it confirms an LSN, so a
// change is confirmed only after its line was written (and fsynced with
// --fsync).

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "vil/cdc/change.hpp"
#include "vil/output/change_encoder.hpp"

namespace vil::cli {

// --max-events N: the first N changes are written; then the run must end
// with the transaction of the Nth change confirmed if it was written whole,
// and not confirmed if it was cut short (it comes again, whole, next time).
// So `on_limit` (which stops the trigger) runs once: at that transaction's
// Commit, or at the next change of it, which is then not written; at once
// after a change outside any transaction.
class OutputWriter final : public cdc::ChangeSink {
 public:
  // `fd` is borrowed. `max_events` 0: no limit.
  OutputWriter(int fd, std::string name, bool fsync, output::ChangeEncoder encoder,
               uint64_t max_events, std::function<void()> on_limit);

  void on_change(const cdc::Change& change) override;
  void on_commit(const cdc::TransactionEnd& transaction) override;
  void flush() override;

  uint64_t events() const { return events_.load(std::memory_order_relaxed); }
  const output::ChangeEncoder& encoder() const { return encoder_; }
  // The reader of a pipe went away (`vil-cdc stream | head`): not an error.
  bool reader_gone() const { return reader_gone_; }

 private:
  void write_out();
  void reach_limit();

  int fd_;
  std::string name_;
  bool fsync_;
  bool regular_file_;
  output::ChangeEncoder encoder_;
  uint64_t max_events_;
  std::function<void()> on_limit_;
  bool limit_reached_ = false;  // the Nth change was written
  bool limit_called_ = false;
  std::string buffer_;
  std::atomic<uint64_t> events_{0};
  bool reader_gone_ = false;
};

}  // namespace vil::cli
