#include "progress_line.hpp"

#include <cstdio>

#include <fmt/format.h>

namespace vil::cli {

std::string human_bytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, kUnits[unit]);
}

ProgressLine::ProgressLine(bool enabled, const cdc::CdcTrigger& trigger,
                           std::function<uint64_t()> events)
    : trigger_(trigger), events_(std::move(events)) {
  if (!enabled) return;
  thread_ = std::thread([this] {
    uint64_t last_events = 0;
    auto last = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    while (!stop_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; })) {
      auto now = std::chrono::steady_clock::now();
      draw(std::chrono::duration<double>(now - last).count(), last_events);
      last = now;
    }
  });
}

ProgressLine::~ProgressLine() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
  if (drawn_) std::fputs("\n", stderr);
}

void ProgressLine::draw(double seconds, uint64_t& last_events) {
  const uint64_t events = events_();
  const double rate = seconds > 0 ? static_cast<double>(events - last_events) / seconds : 0;
  last_events = events;
  const uint64_t server = trigger_.server_wal_end().value;
  const uint64_t confirmed = trigger_.confirmed_lsn().value;
  const uint64_t lag = server > confirmed ? server - confirmed : 0;
  std::fprintf(stderr, "\r\033[K%s events  %.0f/s  %s transactions  %s received  lag %s",
               fmt::format("{}", events).c_str(), rate,
               fmt::format("{}", trigger_.transactions()).c_str(),
               human_bytes(trigger_.bytes_received()).c_str(), human_bytes(lag).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace vil::cli
