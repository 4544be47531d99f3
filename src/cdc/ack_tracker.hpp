#pragma once
// The one place that decides what an AsyncChangeSink's acknowledgements make
// confirmable (docs/DESIGN.md §3.1). The delivery thread records each change
// it hands over and each place where, once everything before it is
// acknowledged, an LSN may be confirmed (a transaction's end, a server
// position between transactions: the DeliveryLedger's raises). The sink's
// threads acknowledge changes in any order; the confirmable LSN is that of
// the last such place with no unacknowledged change before it. It also
// bounds what is in flight, and keeps the first failure.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "vil/cdc/change.hpp"

namespace vil::cdc {

class AckTracker final : public DeliveryAcks {
 public:
  struct Failure {
    uint64_t sequence = 0;
    std::string destination;
    std::string cause;
  };

  // Lives as long as the trigger, so that an acknowledgement that comes late
  // (after a run ended, from a broker's thread) is harmless: it names a
  // sequence no longer in flight, and is ignored.
  AckTracker(uint32_t max_changes, uint64_t max_bytes);

  // A run begins: nothing is in flight. `wake` is called when an
  // acknowledgement moved the confirmable LSN or made room, and on a
  // failure (the delivery thread may be asleep waiting for frames); it is
  // called under the tracker's lock, so that end_run() is the last of it.
  void begin_run(std::function<void()> wake);
  // The run ended: `wake` is never called again.
  void end_run();

  // Delivery thread: `sequence` is handed to the sink (before on_change, so
  // that an acknowledgement from inside it is not lost). False when that
  // filled the window: wait for has_room() before the next.
  bool sent(uint64_t sequence, uint64_t bytes);
  // Delivery thread: once everything sent so far is acknowledged, `lsn` is
  // confirmable.
  void boundary(uint64_t lsn);
  // Delivery thread: whether another change may be handed over now.
  [[nodiscard]] bool has_room() const;
  // Waits up to `timeout` for an acknowledgement or a failure.
  void wait(std::chrono::milliseconds timeout) const;

  // What TriggerMetrics shows of the window. The totals add up across runs.
  struct Figures {
    size_t in_flight = 0;
    uint64_t acknowledged = 0;
    uint64_t failures = 0;
    // Since when the window has been full; nullopt while it has room.
    std::optional<std::chrono::steady_clock::time_point> full_since;
  };

  [[nodiscard]] uint64_t confirmable() const;
  [[nodiscard]] size_t in_flight() const;
  [[nodiscard]] Figures figures() const;
  [[nodiscard]] std::optional<Failure> failure() const;

  // DeliveryAcks: any thread.
  void acknowledge(uint64_t sequence) override;
  void fail(uint64_t sequence, std::string destination, std::string cause) override;

 private:
  struct InFlight {
    uint64_t sequence;
    uint64_t bytes;
    bool acknowledged;
  };
  struct Boundary {
    uint64_t last_sequence;  // the last change sent before it
    uint64_t lsn;
  };
  // Under mutex_: drops the acknowledged front and confirms the boundaries
  // it uncovered.
  void advance();

  // Under mutex_: no room for another change.
  [[nodiscard]] bool full() const;

  const uint32_t max_changes_;
  const uint64_t max_bytes_;
  std::function<void()> wake_;  // under mutex_
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::deque<InFlight> in_flight_;  // in sequence order
  uint64_t bytes_ = 0;
  std::deque<Boundary> boundaries_;
  uint64_t confirmable_ = 0;
  std::optional<Failure> failure_;
  uint64_t acknowledged_ = 0;
  uint64_t failures_ = 0;
  std::optional<std::chrono::steady_clock::time_point> full_since_;
};

}  // namespace vil::cdc
