#include "slot_monitor.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string>

#include <fmt/format.h>

#include <libpq-fe.h>

#include "vil/pgoutput/lsn.hpp"

namespace vil::cdc {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A connection that fails (a role allowed replication connections only, say)
// is tried again less and less often: each failure is a line in the server's
// log.
constexpr milliseconds kFirstRetry{5000};
constexpr milliseconds kLongestRetry{120'000};
// Socket waits are cut into slices this long, so that stop() is prompt.
constexpr int kSliceMs = 100;

// On a standby (logical decoding there needs PostgreSQL 16) the WAL grows by
// what it receives. invalidation_reason came with PostgreSQL 17: read through
// to_jsonb, it is NULL before. No row for the slot leaves its columns NULL.
constexpr const char* kQuery =
    "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() "
    "ELSE pg_current_wal_lsn() END, s.wal_status, s.safe_wal_size, "
    "to_jsonb(s) ->> 'invalidation_reason' "
    "FROM (SELECT 1) AS one LEFT JOIN pg_replication_slots AS s ON s.slot_name = $1";

struct Connection {
  PGconn* conn = nullptr;
  ~Connection() { reset(); }
  void reset() {
    if (conn != nullptr) PQfinish(conn);
    conn = nullptr;
  }
};

// Waits for `events` on the connection's socket, a slice at a time, until
// `deadline`; false when stopping, the deadline passed, or poll failed.
bool wait_socket(PGconn* conn, short events, Clock::time_point deadline,
                 const std::atomic<bool>& stopping) {
  pollfd fd{PQsocket(conn), events, 0};
  while (!stopping.load()) {
    if (Clock::now() >= deadline) return false;
    fd.revents = 0;
    const int ready = poll(&fd, 1, kSliceMs);
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
  return false;
}

bool connect(Connection& c, const std::string& conn_string, const std::atomic<bool>& stopping) {
  // The user's string as the trigger reads it (dbname expanded), plus a name
  // of its own in pg_stat_activity.
  const char* keywords[] = {"dbname", "fallback_application_name", nullptr};
  const char* values[] = {conn_string.c_str(), "vil-cdc slot check", nullptr};
  c.conn = PQconnectStartParams(keywords, values, /*expand_dbname=*/1);
  if (c.conn == nullptr || PQstatus(c.conn) == CONNECTION_BAD) return false;
  const auto deadline = Clock::now() + milliseconds(10'000);
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) return false;
    const short events = status == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    if (!wait_socket(c.conn, events, deadline, stopping)) return false;
    status = PQconnectPoll(c.conn);
  }
  return PQsetnonblocking(c.conn, 1) == 0;
}

// The text of a column, empty when NULL.
std::string text_of(const PGresult* result, int column) {
  if (PQgetisnull(result, 0, column) != 0) return {};
  return PQgetvalue(result, 0, column);
}

// One answer; nullopt when the query failed (`broken`: drop the connection).
std::optional<SlotMonitor::Reading> ask(PGconn* conn, const std::string& slot_name,
                                        const std::atomic<bool>& stopping, bool& broken) {
  broken = true;
  const char* params[] = {slot_name.c_str()};
  if (PQsendQueryParams(conn, kQuery, 1, nullptr, params, nullptr, nullptr, 0) == 0) {
    return std::nullopt;
  }
  const auto deadline = Clock::now() + milliseconds(10'000);
  while (PQflush(conn) == 1) {
    if (!wait_socket(conn, POLLOUT, deadline, stopping)) return std::nullopt;
  }
  std::optional<SlotMonitor::Reading> reading;
  bool ok = true;
  for (;;) {
    while (PQisBusy(conn) != 0) {
      if (!wait_socket(conn, POLLIN, deadline, stopping) || PQconsumeInput(conn) == 0) {
        return std::nullopt;
      }
    }
    PGresult* result = PQgetResult(conn);
    if (result == nullptr) break;
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1) {
      SlotMonitor::Reading r;
      if (auto parsed = pgoutput::parse_lsn(text_of(result, 0))) r.server_wal_lsn = parsed->value;
      r.slot.wal_status = text_of(result, 1);
      r.slot.known = !r.slot.wal_status.empty();
      if (const std::string size = text_of(result, 2); !size.empty()) {
        r.slot.safe_wal_size = std::stoll(size);
      }
      r.slot.invalidation_reason = text_of(result, 3);
      reading = std::move(r);
    } else if (PQresultStatus(result) != PGRES_TUPLES_OK) {
      ok = false;
    }
    PQclear(result);
  }
  broken = !ok || PQstatus(conn) != CONNECTION_OK;
  return reading;
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
                         NoticeCallback notice)
    : conn_string_(std::move(conn_string)),
      slot_name_(std::move(slot_name)),
      interval_(interval),
      notice_(std::move(notice)) {
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

void SlotMonitor::take(Reading reading) {
  std::string before;
  {
    std::lock_guard lock(mutex_);
    before = latest_.slot.wal_status;
    if (reading.server_wal_lsn == 0) reading.server_wal_lsn = latest_.server_wal_lsn;
    latest_ = reading;
  }
  if (!notice_) return;
  if (const std::string text = slot_status_notice(slot_name_, before, reading.slot);
      !text.empty()) {
    try {
      notice_(text);
    } catch (...) {
      // The owner's callback failing must not end the checks: the stream
      // reports its own failures.
    }
  }
}

void SlotMonitor::run() {
  Connection c;
  milliseconds retry = kFirstRetry;
  while (!stopping_.load()) {
    if (c.conn == nullptr) {
      if (!connect(c, conn_string_, stopping_)) {
        c.reset();
        if (!sleep_for(retry)) return;
        retry = std::min(retry * 2, kLongestRetry);
        continue;
      }
      retry = kFirstRetry;
    }
    bool broken = false;
    if (auto reading = ask(c.conn, slot_name_, stopping_, broken)) take(std::move(*reading));
    if (broken) c.reset();
    if (!sleep_for(interval_)) return;
  }
}

}  // namespace vil::cdc
