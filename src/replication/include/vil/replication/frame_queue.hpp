#pragma once
// The hand-over between the I/O thread (reads frames, answers keepalives,
// obeys the control lane) and the delivery thread (decodes, calls the owner).
// Bounded by bytes, so a slow owner makes the I/O thread stop reading and the
// server sees TCP backpressure; memory stays flat whatever the transaction's
// size. Frames move in batches: one lock per batch, not per frame.

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string_view>
#include <variant>
#include <vector>

#include "vil/replication/frame_arena.hpp"
#include "vil/replication/wake_fd.hpp"

namespace vil::replication {

// `text` in a fixed array, cut to fit with a NUL kept at the end: names that
// queue items carry in place, so that the items stay trivially copyable.
template <size_t N>
std::array<char, N> fixed_text(std::string_view text) noexcept {
  std::array<char, N> out{};
  text.copy(out.data(), std::min(text.size(), N - 1));
  return out;
}

// An XLogData frame whose header the I/O thread read; its payload (one
// pgoutput message) lives in the frame arena until delivered.
struct WalFrame {
  uint64_t wal_start;
  std::span<const std::byte> payload;
  FrameArena::Block* block;
  size_t frame_bytes;  // the whole frame, as counted against the queue's bound
};
// A new replication session began: the decoder's state (relations, the
// transaction in progress) starts over, as the server resends from the slot.
struct SessionStarted {
  uint32_t protocol_version;
  // The server's flushed WAL when the session began (IDENTIFY_SYSTEM): the
  // end-LSN rule needs it (cdc/delivery_ledger.hpp).
  uint64_t flushed_at_start;
  // The database's encoding as the server reported it ("UTF8"; PostgreSQL's
  // names are at most 13 characters), kept in place so that queue items stay
  // trivially copyable.
  std::array<char, 16> server_encoding{};

  [[nodiscard]] std::string_view encoding() const noexcept { return server_encoding.data(); }
};
// The slot was just created with its snapshot exported (SnapshotMode::Initial):
// the delivery side reads the snapshot, then calls
// StreamReader::snapshot_read(); only then does the stream start, at
// `consistent_point`.
struct SnapshotExported {
  uint64_t consistent_point;
  // The snapshot's name (pg_export_snapshot's form: "00000003-0000001B-1"),
  // kept in place so that queue items stay trivially copyable.
  std::array<char, 64> name{};

  [[nodiscard]] std::string_view snapshot() const noexcept { return name.data(); }
};
// A keepalive said the server has sent everything before `lsn`. Queued in
// stream order, so the delivery thread reaches it once every frame before it
// was delivered: outside a transaction, the slot may then be confirmed up to
// here (an idle slot advances), and a run with an end LSN may end.
struct ServerPosition {
  uint64_t lsn;
};
// The I/O thread ended (finish, or an error it recorded): the last item.
struct IoFinished {};

using QueueItem =
    std::variant<WalFrame, SessionStarted, ServerPosition, SnapshotExported, IoFinished>;

class FrameQueue {
 public:
  explicit FrameQueue(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Notified when the I/O thread must look again: room came back, or
  // everything it waits for was delivered. Set before the threads start.
  void set_producer_wake(const WakeFd* wake) { producer_wake_ = wake; }

  // Where queued payloads live (WalFrame::payload, WalFrame::block).
  FrameArena& arena() { return arena_; }

  // I/O side: true while there is room for more frames.
  bool has_room() const;
  void push(std::vector<QueueItem>& batch, size_t batch_bytes);
  // I/O side: true when every queued frame was delivered; otherwise the
  // producer wake fires once that is so.
  bool drained_or_notify();

  // Delivery side: takes everything queued, waiting up to `timeout` for some.
  // Returns false on timeout or when woken with nothing queued.
  bool pop_all(std::vector<QueueItem>& out, std::chrono::milliseconds timeout);
  // As above, waiting until something is queued or wake_consumer() is called.
  bool pop_all(std::vector<QueueItem>& out);
  // Delivery side, while it takes nothing (paused): waits for
  // wake_consumer() or the producer's IoFinished; true once IoFinished is
  // queued.
  bool wait_for_wake_or_end();
  // Returns the bytes of delivered frames. True when that woke the producer:
  // room came back (it had stopped reading), or the queue drained while it
  // waited for that.
  bool release(size_t bytes);
  void wake_consumer();
  bool empty() const;
  // Nothing queued and every taken frame released (delivered).
  bool drained() const;

 private:
  // Under the lock, after a wait: everything queued into `out`; the wake is used up.
  bool take_all(std::vector<QueueItem>& out);

  FrameArena arena_;  // first: queued frames point into it
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<QueueItem> items_;
  size_t bytes_ = 0;  // queued plus being delivered
  size_t max_bytes_;
  const WakeFd* producer_wake_ = nullptr;
  bool woken_ = false;
  bool ended_ = false;  // IoFinished was pushed
  bool drain_wanted_ = false;
};

}  // namespace vil::replication
