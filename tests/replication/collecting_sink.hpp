#pragma once
// A Data-lane sink for tests: copies every change into plain values, and
// lets the test wait for a count with a deadline (a hang becomes a failure
// that says what was missing, not a timed assertion).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "vil/cdc/cdc_trigger.hpp"

namespace vil::cdc::test {

// A column value as a test compares it: its text, "<null>" or "<toast>".
using Values = std::vector<std::string>;

struct Record {
  ChangeKind kind;
  std::string table;  // schema.table; for truncate the tables joined by ','
  uint32_t xid = 0;
  uint64_t commit_lsn = 0;
  uint64_t lsn = 0;  // the change's own position
  uint32_t ordinal = 0;
  uint64_t sequence = 0;
  char old_kind = 0;
  Values old_values;
  Values new_values;
  std::string prefix;   // message
  std::string content;  // message
  bool transactional = false;
  bool cascade = false;
  bool restart_identity = false;
};

Values values_of(const pgoutput::TupleView& tuple);

// A consumer's copy of `table` ("schema.table") built from `records` in
// order, for a table of (key in column 0, value in column 1): reads, inserts
// and updates as upserts (an update's old key removed first), deletes as
// deletes, a truncate empties it.
std::map<int, std::string> apply_by_key(const std::vector<Record>& records,
                                        const std::string& table);

class CollectingSink : public ChangeSink {
 public:
  void on_change(const Change& change) override;
  void on_commit(const TransactionEnd& end) override;

  // Called (on the delivery thread) for each change, after it was recorded.
  std::function<void(const Record&)> hook;

  std::vector<Record> records() const;
  size_t size() const;
  size_t commits() const;
  // Waits until at least n records arrived; false at the deadline.
  bool wait_for(size_t n, std::chrono::seconds deadline = std::chrono::seconds(60)) const;
  // Waits until at least n transactions were committed to the sink.
  bool wait_for_commits(size_t n, std::chrono::seconds deadline = std::chrono::seconds(60)) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<Record> records_;
  size_t commits_ = 0;
};

// The Trigger lane as a test sees it: every TriggerEvent in order, with
// waits for a count of events or of one operation.
class EventLog {
 public:
  void add(const core::TriggerEvent& e) {
    {
      std::lock_guard lock(mutex_);
      events_.push_back(e);
    }
    changed_.notify_all();
  }
  // The callback to hand the trigger.
  core::EventCallback callback() {
    return [this](const core::TriggerEvent& e) { add(e); };
  }
  bool wait_for(size_t n, std::chrono::seconds deadline = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] { return events_.size() >= n; });
  }
  // Waits until `op` came `n` times in all.
  bool wait_for(core::TriggerOp op, size_t n, std::chrono::milliseconds deadline) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] { return count_locked(op) >= n; });
  }
  std::vector<core::TriggerEvent> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<core::TriggerOp> ops() {
    std::lock_guard lock(mutex_);
    std::vector<core::TriggerOp> out;
    for (const auto& e : events_) out.push_back(e.op);
    return out;
  }

 private:
  size_t count_locked(core::TriggerOp op) const {
    size_t n = 0;
    for (const auto& e : events_) n += e.op == op ? 1 : 0;
    return n;
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<core::TriggerEvent> events_;
};

// Runs a trigger's start() on a thread of its own for a test.
class TriggerThread {
 public:
  explicit TriggerThread(CdcTrigger& trigger, core::EventCallback events = {});
  ~TriggerThread();  // stops and joins
  // Stops and returns start()'s result.
  std::expected<void, CdcFault> stop();
  // Waits for start() to return by itself.
  std::optional<std::expected<void, CdcFault>> join(std::chrono::seconds deadline);

 private:
  CdcTrigger& trigger_;
  std::mutex mutex_;
  std::condition_variable done_cv_;
  std::optional<std::expected<void, CdcFault>> result_;
  std::thread thread_;
};

}  // namespace vil::cdc::test
