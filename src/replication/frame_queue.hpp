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

#include "replication/frame_arena.hpp"

namespace vil::replication {

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
  // The database's encoding as the server reported it ("UTF8"; PostgreSQL's
  // names are at most 13 characters), kept in place so that queue items stay
  // trivially copyable.
  std::array<char, 16> server_encoding{};

  [[nodiscard]] std::string_view encoding() const noexcept { return server_encoding.data(); }
  static std::array<char, 16> encoding_name(std::string_view name) noexcept {
    std::array<char, 16> out{};
    name.copy(out.data(), std::min(name.size(), out.size() - 1));
    return out;
  }
};
// The server has sent everything up to `lsn`, which is past the owner's end
// LSN (server_passed_end), and no transaction is open (a keepalive); queued
// only when the owner asked to stop at an LSN.
struct ServerCaughtUp {
  uint64_t lsn;
};
// The I/O thread ended (stop, or a fault it recorded).
struct IoFinished {};

using QueueItem = std::variant<WalFrame, SessionStarted, ServerCaughtUp, IoFinished>;

class FrameQueue {
 public:
  explicit FrameQueue(size_t max_bytes) : max_bytes_(max_bytes) {}

  // I/O side: true while there is room for more frames.
  bool has_room() const;
  void push(std::vector<QueueItem>& batch, size_t batch_bytes);

  // Delivery side: takes everything queued, waiting up to `timeout` for some.
  // Returns false on timeout or when woken with nothing queued.
  bool pop_all(std::vector<QueueItem>& out, std::chrono::milliseconds timeout);
  // Returns the bytes of delivered frames; true when that made room again
  // (the I/O thread, which stopped reading, must be woken).
  bool release(size_t bytes);
  void wake_consumer();
  bool empty() const;
  // Nothing queued and every taken frame released (delivered).
  bool drained() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<QueueItem> items_;
  size_t bytes_ = 0;  // queued plus being delivered
  size_t max_bytes_;
  bool woken_ = false;
};

}  // namespace vil::replication
