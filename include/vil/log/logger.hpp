#pragma once
// The vil_log record path: writers stamp a LogSlot and push it into a ring;
// a drain, off the hot path, pops records and hands them to sinks.
//
// Rings are striped: every writer thread gets an ordinal on its first record
// and uses ring (ordinal % stripes). Each ring is a bounded MPSC queue; when a
// writer's ring is full the record is dropped and counted, never waited for.
// Writing a record allocates nothing, takes no lock and makes no system call
// (besides reading the clock).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "vil/log/level.hpp"
#include "vil/log/log_slot.hpp"
#include "vil/log/mq_payload.hpp"
#include "vil/log/sink.hpp"

namespace vil::log {

struct LogConfig {
  // Who writes: register_str of the service, handler and node names.
  std::uint32_t service_hash = 0;
  std::uint32_t handler_hash = 0;
  std::uint32_t node_hash = 0;
  LogLevel level = LogLevel::Info;                   // records below it are skipped
  std::size_t stripes = 8;                           // rings
  std::size_t ring_capacity = 1024;                  // slots per ring; rounded up to a power of two
  std::chrono::microseconds drain_idle_sleep{1000};  // drain thread pause when all rings are empty
};

class Logger {
 public:
  explicit Logger(const LogConfig& config = {});
  ~Logger();  // shutdown()
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void set_level(LogLevel level) noexcept;
  LogLevel level() const noexcept;
  bool enabled(LogLevel level) const noexcept { return level >= this->level(); }
  void set_identity(std::uint32_t service_hash, std::uint32_t handler_hash,
                    std::uint32_t node_hash) noexcept;

  // Hot path. Stamps a header (event_id, now, pid, level, category Mq,
  // version 1, identity) and pushes. False when filtered out or dropped.
  bool mq_log(LogLevel level, const MqPayload& payload) noexcept;
  // The same, stamped with a time the caller read for the same event (a
  // clock read is a fair part of a record's cost).
  bool mq_log(LogLevel level, const MqPayload& payload, std::uint64_t timestamp_ns) noexcept;
  // Pushes a slot exactly as given. False (and one drop counted) when full.
  bool push(const LogSlot& slot) noexcept;

  std::uint64_t dropped() const noexcept;
  std::size_t stripes() const noexcept;
  std::size_t ring_capacity() const noexcept;
  std::size_t stripe_of_this_thread() const noexcept;

  // Sinks belong to the drain; adding or clearing waits for a running batch.
  void add_sink(std::unique_ptr<Sink> sink);
  void clear_sinks();

  // Pops every record queued when called (at most one ring's capacity per
  // ring), writes each to every sink, flushes them; returns how many. Records
  // are discarded when there is no sink.
  std::size_t drain_once();
  // Starts the drain thread (no-op if running).
  void start_drain();
  bool draining() const noexcept;
  // Stops the drain thread, drains what was queued when it was called, flushes
  // the sinks. Bounded: it takes at most a few passes over the rings, so a
  // writer that keeps logging cannot hold it up (what such a writer pushes
  // meanwhile may stay queued). The logger stays usable: start_drain() may be
  // called again.
  void shutdown();
  // Exceptions thrown by sinks, caught and counted by the drain.
  std::uint64_t sink_failures() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The process-wide logger. Created on first use; init() before the first
// record sets its ring geometry. A later init() only changes the level and
// the identity, and returns false.
//
// The first use is the slow one: it takes a mutex and allocates the rings
// (stripes x ring_capacity x 256 bytes, 2 MB by default). Call init() at
// start-up, before the hot path: from then on the free functions below do no
// allocation, take no lock and make no system call besides reading the clock;
// mq_log is then lock-free (it waits for no other thread: a push retries only
// when another writer claimed the same cell first, and a full ring is a drop).
// Without init(), the free functions create the logger themselves; if that
// fails (out of memory), mq_log counts the record as dropped instead of
// throwing, and the next call tries again.
bool init(const LogConfig& config);
Logger& logger();  // throws std::bad_alloc when the logger cannot be made

void set_level(LogLevel level) noexcept;  // no effect when the logger cannot be made
LogLevel level() noexcept;
void mq_log(LogLevel level, const MqPayload& payload) noexcept;
void mq_log(LogLevel level, const MqPayload& payload, std::uint64_t timestamp_ns) noexcept;
// The global logger's drops, plus records lost because it could not be made.
std::uint64_t dropped() noexcept;
// Starts the global drain and makes sure that it is drained and flushed at exit.
void start_drain();
void shutdown();

}  // namespace vil::log
