#include "progress_line.hpp"

#include <fmt/format.h>

#include "stderr_lines.hpp"

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

std::string lag_text(uint64_t server_wal, uint64_t confirmed) {
  if (server_wal == 0 || confirmed == 0) return "lag ?";
  return "lag " + human_bytes(server_wal > confirmed ? server_wal - confirmed : 0);
}

std::string snapshot_text(const cdc::SnapshotProgress& progress, double rows_per_second) {
  if (!progress.reading) return {};
  std::string eta = "?";
  if (rows_per_second >= 1 && progress.rows_estimated > progress.rows) {
    const auto seconds = static_cast<uint64_t>(
        static_cast<double>(progress.rows_estimated - progress.rows) / rows_per_second);
    eta = seconds >= 3600 ? fmt::format("{}h{:02}m", seconds / 3600, seconds / 60 % 60)
          : seconds >= 60 ? fmt::format("{}m{:02}s", seconds / 60, seconds % 60)
                          : fmt::format("{}s", seconds);
  }
  return fmt::format("snapshot {}/{} tables  {} rows  {:.0f}/s  ETA {}", progress.tables_done,
                     progress.tables, progress.rows, rows_per_second, eta);
}

ProgressLine::ProgressLine(bool enabled, const cdc::CdcTrigger& trigger,
                           std::function<uint64_t()> events)
    : trigger_(trigger), events_(std::move(events)) {
  if (!enabled) return;
  thread_ = std::thread([this] {
    uint64_t last_events = 0;
    uint64_t last_rows = trigger_.snapshot_progress().rows;
    auto last = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    while (!stop_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; })) {
      auto now = std::chrono::steady_clock::now();
      draw(std::chrono::duration<double>(now - last).count(), last_events, last_rows);
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
  stderr_lines().end_status();
}

void ProgressLine::draw(double seconds, uint64_t& last_events, uint64_t& last_rows) {
  const uint64_t events = events_();
  const double rate = seconds > 0 ? static_cast<double>(events - last_events) / seconds : 0;
  last_events = events;
  const cdc::TriggerMetrics metrics = trigger_.metrics();
  const cdc::SnapshotProgress& snapshot = metrics.snapshot;
  const double row_rate =
      seconds > 0 ? static_cast<double>(snapshot.rows - last_rows) / seconds : 0;
  last_rows = snapshot.rows;
  std::string line =
      fmt::format("{} events  {:.0f}/s  {} transactions  {} received  {}", events, rate,
                  metrics.transactions, human_bytes(metrics.received_bytes),
                  lag_text(metrics.server_wal_lsn.value, metrics.confirmed_lsn.value));
  if (const std::string text = snapshot_text(snapshot, row_rate); !text.empty()) {
    line += "  " + text;
  }
  stderr_lines().set_status(line);
}

}  // namespace vil::cli
