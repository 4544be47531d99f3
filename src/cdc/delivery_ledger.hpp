#pragma once
// The delivery thread's account of where the stream stands, and the one place
// that decides two things (docs/DESIGN.md §6.3, §6.5):
//
// - which LSN may be confirmed to the server: the end of the last transaction
//   whose Commit was delivered, raised to a server position (a keepalive)
//   reached outside any transaction, so that an idle slot advances and a
//   transaction in flight is never skipped;
// - where a run with an end LSN stops.
//
// It sees the stream in order (Begin, Commit, ServerPosition, a new session)
// and nothing else: no clock, no thread, no I/O. The caller publishes
// confirmable() only after the sink flushed what was delivered.

#include <cstdint>

namespace vil::cdc {

class DeliveryLedger {
 public:
  // `end_lsn`: deliver every transaction that commits at or before it, none
  // after; 0 for no end.
  explicit DeliveryLedger(uint64_t end_lsn = 0) : end_lsn_(end_lsn) {}

  // A new session: the server sends a transaction cut short by the lost
  // connection again, whole. `flushed_at_start` is the server's flushed WAL
  // as the session began (IDENTIFY_SYSTEM).
  void session_started(uint64_t flushed_at_start) {
    in_transaction_ = false;
    flushed_at_start_ = flushed_at_start;
  }

  // A Begin whose transaction commits at `final_lsn`. False when that is past
  // the end: the run ends without delivering any of it.
  [[nodiscard]] bool begin(uint64_t final_lsn) {
    if (end_lsn_ != 0 && final_lsn > end_lsn_) return false;
    in_transaction_ = true;
    return true;
  }

  // The Commit of the transaction was delivered (its callbacks returned).
  // True when the run ends here: it committed at or past the end.
  [[nodiscard]] bool commit(uint64_t commit_lsn, uint64_t end_of_transaction) {
    in_transaction_ = false;
    raise(end_of_transaction);
    return end_lsn_ != 0 && commit_lsn >= end_lsn_;
  }

  // The server has sent everything before `lsn`, and every frame before it
  // was delivered. Outside a transaction the slot may be confirmed up to it.
  // True when the run ends here: the server passed the end.
  [[nodiscard]] bool server_position(uint64_t lsn) {
    if (in_transaction_) return false;
    raise(lsn);
    return end_lsn_ != 0 && server_passed_end(lsn);
  }

  [[nodiscard]] bool in_transaction() const { return in_transaction_; }
  // The flush LSN to report once what was delivered is flushed; never goes
  // backwards.
  [[nodiscard]] uint64_t confirmable() const { return confirmable_; }

 private:
  void raise(uint64_t lsn) {
    if (lsn > confirmable_) confirmable_ = lsn;
  }

  // Past the end, always. Exactly at it, only when the end was not yet
  // flushed as the session began: the keepalive may come right before a
  // commit record that starts at end_lsn (a real commit LSN, which is always
  // flushed before a consumer can know it), and that transaction must still
  // be delivered. An end the server had not reached (pg_current_wal_lsn()
  // taken just before) is reached once reported, or an idle server would
  // never end the stream.
  [[nodiscard]] bool server_passed_end(uint64_t position) const {
    if (position > end_lsn_) return true;
    return position == end_lsn_ && end_lsn_ >= flushed_at_start_;
  }

  uint64_t end_lsn_;
  uint64_t flushed_at_start_ = 0;
  bool in_transaction_ = false;
  uint64_t confirmable_ = 0;
};

}  // namespace vil::cdc
