#include "server_wal.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include <libpq-fe.h>

#include "vil/pgoutput/lsn.hpp"

namespace vil::cli {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kPollEvery{1000};
// A connection that fails (a role allowed replication connections only, say)
// is tried again less and less often: each failure is a line in the server's
// log.
constexpr milliseconds kFirstRetry{5000};
constexpr milliseconds kLongestRetry{120'000};
// Socket waits are cut into slices this long, so that stop() is prompt.
constexpr int kSliceMs = 100;

// On a standby (logical decoding there needs PostgreSQL 16) the WAL grows by
// what it receives.
constexpr const char* kQuery =
    "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() "
    "ELSE pg_current_wal_lsn() END";

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
  const char* values[] = {conn_string.c_str(), "vil-cdc progress", nullptr};
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

// One answer, or 0 when the query failed (the connection is then dropped).
uint64_t ask(PGconn* conn, const std::atomic<bool>& stopping, bool& broken) {
  broken = true;
  if (PQsendQuery(conn, kQuery) == 0) return 0;
  const auto deadline = Clock::now() + milliseconds(10'000);
  while (PQflush(conn) == 1) {
    if (!wait_socket(conn, POLLOUT, deadline, stopping)) return 0;
  }
  uint64_t lsn = 0;
  bool ok = true;
  for (;;) {
    while (PQisBusy(conn) != 0) {
      if (!wait_socket(conn, POLLIN, deadline, stopping) || PQconsumeInput(conn) == 0) return 0;
    }
    PGresult* result = PQgetResult(conn);
    if (result == nullptr) break;
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1 &&
        PQgetisnull(result, 0, 0) == 0) {
      if (auto parsed = pgoutput::parse_lsn(PQgetvalue(result, 0, 0))) lsn = parsed->value;
    } else if (PQresultStatus(result) != PGRES_TUPLES_OK) {
      ok = false;
    }
    PQclear(result);
  }
  broken = !ok || PQstatus(conn) != CONNECTION_OK;
  return lsn;
}

}  // namespace

ServerWal::ServerWal(std::string conn_string) : conn_string_(std::move(conn_string)) {
  thread_ = std::thread([this] { run(); });
}

ServerWal::~ServerWal() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    stopping_.store(true);
  }
  stop_cv_.notify_all();
  thread_.join();
}

bool ServerWal::sleep_for(milliseconds ms) {
  std::unique_lock lock(mutex_);
  return !stop_cv_.wait_for(lock, ms, [&] { return stop_; });
}

void ServerWal::run() {
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
    if (const uint64_t lsn = ask(c.conn, stopping_, broken); lsn != 0) {
      lsn_.store(lsn, std::memory_order_relaxed);
    }
    if (broken) c.reset();
    if (!sleep_for(kPollEvery)) return;
  }
}

}  // namespace vil::cli
