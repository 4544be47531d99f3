#pragma once
// How long to wait before reconnect attempt n, and when to give up: the
// reconnect decisions of docs/DESIGN.md §6.6 as a function of how each
// session ended, with no clock or socket of their own.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace vil::replication {

struct ReconnectPolicy {
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
  uint32_t max_attempts = 0;  // consecutive failed attempts before giving up; 0: never
};

// initial * 2^(attempt-1), times `jitter` (the caller draws it from
// [0.8, 1.2] so that many consumers of one restarted server do not come back
// at once), then capped at max_backoff: the cap holds whatever the jitter.
std::chrono::milliseconds backoff_delay(const ReconnectPolicy& policy, uint32_t attempt,
                                        double jitter);

// A session that ends this soon without having received any change was not a
// success: a server that drops every connection right after
// START_REPLICATION must still see the backoff grow.
inline constexpr std::chrono::seconds kHealthySessionAge{10};

// The count of consecutive failed attempts, across the sessions of a stream.
class ReconnectState {
 public:
  ReconnectState(ReconnectPolicy policy, uint32_t seed) : policy_(policy), jitter_(seed) {}

  struct Next {
    uint32_t attempt;  // 1 for the first retry after a success
    std::chrono::milliseconds wait;
  };
  // A session ended with the connection lost. `streamed`: it got as far as
  // streaming; `received_data`: an XLogData frame came; `age`: how long it
  // lasted. A session that streamed and either received data or lasted
  // kHealthySessionAge starts the count again. nullopt: max_attempts
  // consecutive attempts failed, give up.
  std::optional<Next> after_lost_session(bool streamed, bool received_data,
                                         std::chrono::steady_clock::duration age);

 private:
  ReconnectPolicy policy_;
  std::minstd_rand jitter_;
  uint32_t failed_attempts_ = 0;
};

}  // namespace vil::replication
