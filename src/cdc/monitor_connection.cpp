#include "monitor_connection.hpp"

#include <poll.h>

#include <cerrno>
#include <chrono>

#include <fmt/format.h>

namespace vil::cdc {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kPatience{10'000};
// Socket waits are cut into slices this long, so that a stop is prompt.
constexpr int kSliceMs = 100;

// A libpq notice processor that prints nothing.
void drop_notice(void* /*arg*/, const char* /*message*/) {}

// Waits for `events` on the connection's socket until `deadline`; false when
// stopping, the deadline passed, or poll failed.
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

}  // namespace

PqConnection connect_polled(const char* const* keywords, const char* const* values,
                            bool expand_dbname, const std::atomic<bool>& stopping) {
  PqConnection conn(PQconnectStartParams(keywords, values, expand_dbname ? 1 : 0));
  if (!conn || PQstatus(conn.get()) == CONNECTION_BAD) return nullptr;
  // libpq would print the server's notices on stderr, which carries only
  // vil-cdc's own lines: a server going down says "terminating connection
  // due to immediate shutdown" to every session, and these checks are
  // background work whose failures cost a reading, nothing more.
  PQsetNoticeProcessor(conn.get(), drop_notice, nullptr);
  const auto deadline = Clock::now() + kPatience;
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) return nullptr;
    const short events = status == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    if (!wait_socket(conn.get(), events, deadline, stopping)) return nullptr;
    status = PQconnectPoll(conn.get());
  }
  if (PQsetnonblocking(conn.get(), 1) != 0) return nullptr;
  return conn;
}

std::optional<TextRow> query_row(PGconn* conn, const char* sql,
                                 const std::vector<std::string>& params,
                                 const std::atomic<bool>& stopping, bool& broken) {
  broken = true;
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  if (PQsendQueryParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                        nullptr, 0) == 0) {
    return std::nullopt;
  }
  const auto deadline = Clock::now() + kPatience;
  while (PQflush(conn) == 1) {
    if (!wait_socket(conn, POLLOUT, deadline, stopping)) return std::nullopt;
  }
  std::optional<TextRow> row;
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
      TextRow r;
      for (int i = 0; i < PQnfields(result); ++i) {
        if (PQgetisnull(result, 0, i) != 0) {
          r.emplace_back(std::nullopt);
        } else {
          r.emplace_back(PQgetvalue(result, 0, i));
        }
      }
      row = std::move(r);
    } else if (PQresultStatus(result) != PGRES_TUPLES_OK) {
      ok = false;
    }
    PQclear(result);
  }
  broken = !ok || PQstatus(conn) != CONNECTION_OK;
  return row;
}

std::string server_address(PGconn* conn) {
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  return fmt::format("{}:{}", host != nullptr ? host : "", port != nullptr ? port : "");
}

}  // namespace vil::cdc
