#pragma once
// The progress line on stderr when it is a terminal: events/s, transactions,
// bytes received, and how far the confirmed position lags the server's WAL.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
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
  void draw(double seconds_since_last, uint64_t& last_events);

  const cdc::CdcTrigger& trigger_;
  std::function<uint64_t()> events_;
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  bool drawn_ = false;
  std::thread thread_;
};

// "1.5 MiB"
std::string human_bytes(uint64_t bytes);

}  // namespace vil::cli
