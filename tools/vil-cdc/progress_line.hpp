#pragma once
// The progress line on stderr when it is a terminal: events/s, transactions,
// bytes received, how far the confirmed position is behind the server's WAL
// (TriggerMetrics: the trigger asks the server), and, while a snapshot is read, its tables
// done, rows, rows/s and the time left by the tables' statistics. Drawn once a second through
// StderrLines, which keeps other stderr lines from landing on it.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "vil/cdc/cdc_trigger.hpp"

namespace vil::cli {

class ProgressLine {
 public:
  // Does nothing unless `enabled`.
  ProgressLine(bool enabled, const cdc::CdcTrigger& trigger, std::function<uint64_t()> events);
  ~ProgressLine();  // ends the line
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  void draw(double seconds_since_last, uint64_t& last_events, uint64_t& last_rows);

  const cdc::CdcTrigger& trigger_;
  std::function<uint64_t()> events_;
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

// "1.5 MiB"
std::string human_bytes(uint64_t bytes);

// "lag 1.5 MiB" behind the server's WAL, or "lag ?" while either position is
// not known yet.
std::string lag_text(uint64_t server_wal, uint64_t confirmed);

// "snapshot 1/3 tables  120000 rows  45000/s  ETA 2m05s" ("ETA ?" while the
// rate or the estimate is not known); empty when no snapshot is read.
std::string snapshot_text(const cdc::SnapshotProgress& progress, double rows_per_second);

}  // namespace vil::cli
