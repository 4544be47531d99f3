#pragma once
// The slot check's libpq connections (SlotMonitor's own, and one to each
// standby with failover on): connect and ask without ever blocking past a
// stop, each wait cut into slices that look at `stopping`.

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "libpq_text.hpp"

namespace vil::cdc {

// A server that cannot be reached is tried again less and less often, from
// the first wait doubling to the longest: each failed login is a line in its
// log.
constexpr std::chrono::milliseconds kCheckFirstRetry{5000};
constexpr std::chrono::milliseconds kCheckLongestRetry{120'000};

// One result row as text; std::nullopt is SQL NULL.
using TextRow = std::vector<std::optional<std::string>>;

// Connects with PQconnectStartParams(keywords, values, expand_dbname) and
// waits 10 s at most; null when it failed or `stopping` came first. The
// connection is non-blocking.
PqConnection connect_polled(const char* const* keywords, const char* const* values,
                            bool expand_dbname, const std::atomic<bool>& stopping);

// Runs `sql` with text parameters ($1...) and returns its one row (10 s at
// most). nullopt when it failed or returned no row; `broken` then says
// whether the connection is of no further use.
std::optional<TextRow> query_row(PGconn* conn, const char* sql,
                                 const std::vector<std::string>& params,
                                 const std::atomic<bool>& stopping, bool& broken);

// "host:port" of the server a connection reached.
std::string server_address(PGconn* conn);

}  // namespace vil::cdc
