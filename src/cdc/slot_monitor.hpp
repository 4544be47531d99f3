#pragma once
// The server's own view of the stream, for lag and slot safety: a thread of
// its own asks, every CdcConfig::slot_check_interval, over an ordinary (not
// replication) libpq connection off the stream's hot path, for the server's
// end of WAL and the slot's wal_status, safe_wal_size and invalidation
// reason. The positions a walsender puts in its frames and keepalives are
// what it has *sent*, which stays close to what was confirmed while the
// server's WAL runs ahead of both; only the server itself can say how far
// behind the slot is, and whether it is about to lose the WAL the slot needs.
// With failover on it also asks the standbys whether they hold a ready copy
// of the slot (standby_copies.hpp).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "standby_copies.hpp"
#include "vil/cdc/trigger_metrics.hpp"

namespace vil::cdc {

class SlotMonitor {
 public:
  using NoticeCallback = std::function<void(const std::string&)>;

  // Starts asking at once, then every `interval`. `notice` hears, in words,
  // when the slot's wal_status turns to or from "unreserved" or to "lost",
  // and with `failover` when a standby's copy turns ready or not.
  SlotMonitor(std::string conn_string, std::string slot_name, std::chrono::milliseconds interval,
              NoticeCallback notice, bool failover = false);
  ~SlotMonitor();  // closes the connection, joins the thread
  SlotMonitor(const SlotMonitor&) = delete;
  SlotMonitor& operator=(const SlotMonitor&) = delete;

  struct Reading {
    uint64_t server_wal_lsn = 0;  // 0: not known yet, or the connection failed
    SlotStatus slot;
    std::vector<StandbySlotCopy> standbys;  // with failover: those that answered
  };
  // The last answer. A role allowed replication connections only gets none.
  [[nodiscard]] Reading latest() const;

 private:
  void run();
  // Waits until the deadline or the destructor; false on the destructor.
  bool sleep_for(std::chrono::milliseconds ms);
  void take(Reading reading);
  // Asks the standbys (the server the check reached is `connected`) and
  // says what changed.
  void check_standbys(const std::string& connected);
  void tell(const std::string& text);

  const std::string conn_string_;
  const std::string slot_name_;
  const std::chrono::milliseconds interval_;
  NoticeCallback notice_;
  std::optional<StandbyCopies> standby_copies_;  // with failover; the thread's
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // under mutex_
  Reading latest_;     // under mutex_
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// The words for a slot whose wal_status moved from `before` to `after`
// (pg_replication_slots' spellings); empty when the move is not worth a
// line. `safe_wal_size` and `reason` as the server gave them.
std::string slot_status_notice(const std::string& slot_name, const std::string& before,
                               const SlotStatus& after);

}  // namespace vil::cdc
