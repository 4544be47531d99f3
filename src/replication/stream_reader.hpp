#pragma once
// The I/O thread: holds the replication connection, reads CopyData frames
// into the frame queue, answers keepalives, sends standby status updates with
// the LSN the delivery thread made confirmable, obeys pause and stop, and
// reconnects with backoff when the connection is lost. Sockets and timers
// live here and nowhere else.

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "replication/poll_wait.hpp"
#include "replication/replication_connection.hpp"
#include "replication/session_setup.hpp"
#include "replication/stream_shared.hpp"

namespace vil::replication {

class StreamReader {
 public:
  explicit StreamReader(StreamShared& shared) : shared_(shared) {}

  // Runs until stop, or a fault no retry cures (recorded in shared.fault());
  // always ends by queueing IoFinished and setting shared.io_finished. Never
  // throws: whatever escapes becomes the recorded fault.
  void run();

  // A session of this run got as far as streaming from the slot.
  bool ever_streamed() const { return ever_streamed_; }

 private:
  enum class End { Stopped, Lost, Fatal };
  struct SessionResult {
    End end;
    std::optional<cdc::CdcFault> fault;
  };

  void reconnect_loop();
  SessionResult run_session();
  SessionResult stream(ReplicationConnection& conn, const SessionInfo& info);
  // Classifies the server's words when the stream ended on its side.
  SessionResult stream_ended(const ServerError& e, const SessionInfo& info) const;
  bool send_status_update(ReplicationConnection& conn);
  // Sleeps the backoff for the given attempt; false when stop came first.
  bool back_off(uint32_t attempt, const cdc::CdcFault& cause);
  // Waits until the delivery thread delivered every queued frame, so that a
  // new session starts after them; false when stop came first.
  bool wait_for_delivery();
  cdc::CdcFault connect_fault(const ConnectError& e) const;
  cdc::CdcFault start_fault(const ServerError& e) const;
  // Tells the owner's on_notice; false when that callback threw (the fault is
  // then recorded and the stream ends).
  bool notice(const std::string& text);

  StreamShared& shared_;
  bool ever_streamed_ = false;
  bool session_streamed_ = false;
  bool session_received_data_ = false;  // an XLogData frame came in this session
  bool notice_failed_ = false;
  uint64_t frames_received_ = 0;  // since the trigger started; the delivery thread counts alike
  bool transaction_open_ = false;
  uint64_t last_sent_flush_ = 0;
  bool coalescing_ = false;    // SO_RCVLOWAT raised while the server streams in bulk
  bool woke_for_data_ = true;  // the last wait ended for the socket or a timer, not the wake fd
  Clock::time_point window_start_{};  // bytes read since then: is the server streaming in bulk?
  size_t window_bytes_ = 0;
  uint32_t window_reads_ = 0;
  std::minstd_rand jitter_{std::random_device{}()};
};

}  // namespace vil::replication
