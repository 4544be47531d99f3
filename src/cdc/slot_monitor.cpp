#include "slot_monitor.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <libpq-fe.h>

#include "monitor_connection.hpp"
#include "vil/pgoutput/lsn.hpp"

namespace vil::cdc {

namespace {

using std::chrono::milliseconds;

// On a standby (logical decoding there needs PostgreSQL 16) the WAL grows by
// what it receives. invalidation_reason came with PostgreSQL 17: read through
// to_jsonb, it is NULL before. No row for the slot leaves its columns NULL.
constexpr const char* kQuery =
    "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() "
    "ELSE pg_current_wal_lsn() END, s.wal_status, s.safe_wal_size, "
    "to_jsonb(s) ->> 'invalidation_reason' "
    "FROM (SELECT 1) AS one LEFT JOIN pg_replication_slots AS s ON s.slot_name = $1";

// One answer; nullopt when the query failed (`broken`: drop the connection).
std::optional<SlotMonitor::Reading> ask(PGconn* conn, const std::string& slot_name,
                                        const std::atomic<bool>& stopping, bool& broken) {
  auto row = query_row(conn, kQuery, {slot_name}, stopping, broken);
  if (!row || row->size() != 4) return std::nullopt;
  SlotMonitor::Reading r;
  if (auto parsed = pgoutput::parse_lsn((*row)[0].value_or(""))) r.server_wal_lsn = parsed->value;
  r.slot.wal_status = (*row)[1].value_or("");
  r.slot.known = !r.slot.wal_status.empty();
  if ((*row)[2]) r.slot.safe_wal_size = std::stoll(*(*row)[2]);
  r.slot.invalidation_reason = (*row)[3].value_or("");
  return r;
}

}  // namespace

std::string slot_status_notice(const std::string& slot_name, const std::string& before,
                               const SlotStatus& after) {
  const std::string& now = after.wal_status;
  if (now == before) return {};
  if (now == "unreserved") {
    return fmt::format(
        "slot \"{}\": wal_status is unreserved: it is more than max_slot_wal_keep_size behind, "
        "and the server will invalidate it at a checkpoint unless it catches up{}",
        slot_name,
        after.safe_wal_size ? fmt::format(" (safe_wal_size {} bytes)", *after.safe_wal_size) : "");
  }
  if (now == "lost") {
    return fmt::format(
        "slot \"{}\": wal_status is lost{}: the server removed WAL it needed, so it can no "
        "longer be used",
        slot_name, after.invalidation_reason.empty() ? "" : " (" + after.invalidation_reason + ")");
  }
  if (before == "unreserved") {
    return fmt::format("slot \"{}\": wal_status is {} again", slot_name, now);
  }
  return {};
}

SlotMonitor::SlotMonitor(std::string conn_string, std::string slot_name, milliseconds interval,
                         NoticeCallback notice, bool failover)
    : conn_string_(std::move(conn_string)),
      slot_name_(std::move(slot_name)),
      interval_(interval),
      notice_(std::move(notice)) {
  if (failover) standby_copies_.emplace(conn_string_, slot_name_);
  thread_ = std::thread([this] { run(); });
}

SlotMonitor::~SlotMonitor() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    stopping_.store(true);
  }
  stop_cv_.notify_all();
  thread_.join();
}

SlotMonitor::Reading SlotMonitor::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

bool SlotMonitor::sleep_for(milliseconds ms) {
  std::unique_lock lock(mutex_);
  return !stop_cv_.wait_for(lock, ms, [&] { return stop_; });
}

void SlotMonitor::tell(const std::string& text) {
  if (!notice_ || text.empty()) return;
  try {
    notice_(text);
  } catch (...) {
    // The owner's callback failing must not end the checks: the stream
    // reports its own failures.
  }
}

void SlotMonitor::take(Reading reading) {
  std::string before;
  {
    std::lock_guard lock(mutex_);
    before = latest_.slot.wal_status;
    if (reading.server_wal_lsn == 0) reading.server_wal_lsn = latest_.server_wal_lsn;
    reading.standbys = latest_.standbys;
    latest_ = reading;
  }
  tell(slot_status_notice(slot_name_, before, reading.slot));
}

void SlotMonitor::check_standbys(const std::string& connected) {
  std::vector<StandbySlotCopy> now = standby_copies_->check(connected, stopping_);
  std::vector<StandbySlotCopy> before;
  {
    std::lock_guard lock(mutex_);
    before = std::exchange(latest_.standbys, now);
  }
  for (const StandbySlotCopy& copy : now) {
    const auto was = std::ranges::find(before, copy.standby, &StandbySlotCopy::standby);
    tell(standby_copy_notice(slot_name_, was == before.end() ? std::nullopt : std::optional(*was),
                             copy));
  }
}

void SlotMonitor::run() {
  PqConnection conn;
  milliseconds retry = kCheckFirstRetry;
  // The user's string as the trigger reads it (dbname expanded), plus a name
  // of its own in pg_stat_activity.
  const char* keywords[] = {"dbname", "fallback_application_name", nullptr};
  const char* values[] = {conn_string_.c_str(), "vil-cdc slot check", nullptr};
  while (!stopping_.load()) {
    if (!conn) {
      conn = connect_polled(keywords, values, true, stopping_);
      if (!conn) {
        if (!sleep_for(retry)) return;
        retry = std::min(retry * 2, kCheckLongestRetry);
        continue;
      }
      retry = kCheckFirstRetry;
    }
    bool broken = false;
    if (auto reading = ask(conn.get(), slot_name_, stopping_, broken)) take(std::move(*reading));
    // A connection string of one host names no standby to ask.
    if (standby_copies_ && standby_copies_->hosts() >= 2) {
      check_standbys(server_address(conn.get()));
    }
    if (broken) conn.reset();
    if (!sleep_for(interval_)) return;
  }
}

}  // namespace vil::cdc
