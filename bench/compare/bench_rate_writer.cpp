// bench_rate_writer: the latency run's writer. Commits single-row inserts at a
// fixed rate (a schedule of start + i/rate, so a late transaction does not
// push the later ones back), then one row into the stop table, which tells the
// consumers to end.
//
//   bench_rate_writer --conn C --rate 2000 --seconds 30 --table T --stop-table S
//
// Prints one JSON object: transactions, seconds taken, the achieved rate and
// how many transactions started more than 1 ms late.

#include <libpq-fe.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include <fmt/format.h>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string conn;
  std::string table = "latency_rows";
  std::string stop_table = "latency_end";
  double rate = 2000;
  double seconds = 30;
};

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "bench_rate_writer: %s\n", message.c_str());
  std::exit(1);
}

void exec(PGconn* conn, const std::string& sql) {
  PGresult* result = PQexec(conn, sql.c_str());
  const auto status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    std::string message = PQresultErrorMessage(result);
    PQclear(result);
    fail(fmt::format("'{}': {}", sql, message));
  }
  PQclear(result);
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) fail(fmt::format("{} needs a value", arg));
    const std::string value = argv[++i];
    if (arg == "--conn")
      options.conn = value;
    else if (arg == "--rate")
      options.rate = std::stod(value);
    else if (arg == "--seconds")
      options.seconds = std::stod(value);
    else if (arg == "--table")
      options.table = value;
    else if (arg == "--stop-table")
      options.stop_table = value;
    else
      fail(fmt::format("unknown argument '{}'", arg));
  }
  if (options.conn.empty()) fail("--conn is required");
  if (options.rate <= 0 || options.seconds <= 0) fail("--rate and --seconds must be positive");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  PGconn* conn = PQconnectdb(options.conn.c_str());
  if (PQstatus(conn) != CONNECTION_OK) fail(PQerrorMessage(conn));

  // One prepared statement: the writer's own cost stays small and steady.
  PGresult* prepared = PQprepare(
      conn, "row",
      fmt::format("INSERT INTO {} (id, t, n, ts, b) VALUES ($1::int, 'row ' || $1, $1::numeric / "
                  "100, now(), $1::int % 2 = 0)",
                  options.table)
          .c_str(),
      1, nullptr);
  if (PQresultStatus(prepared) != PGRES_COMMAND_OK) fail(PQresultErrorMessage(prepared));
  PQclear(prepared);

  const auto total = static_cast<uint64_t>(options.rate * options.seconds);
  const auto period = std::chrono::duration<double>(1.0 / options.rate);
  uint64_t late = 0;
  const auto start = Clock::now();
  for (uint64_t i = 0; i < total; ++i) {
    const auto due =
        start + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(i));
    auto now = Clock::now();
    if (now < due) {
      std::this_thread::sleep_until(due);
    } else if (now - due > std::chrono::milliseconds(1)) {
      ++late;
    }
    const std::string id = std::to_string(i + 1);
    const char* values[] = {id.c_str()};
    PGresult* result = PQexecPrepared(conn, "row", 1, values, nullptr, nullptr, 0);
    if (PQresultStatus(result) != PGRES_COMMAND_OK) fail(PQresultErrorMessage(result));
    PQclear(result);
  }
  const double taken = std::chrono::duration<double>(Clock::now() - start).count();
  exec(conn, fmt::format("INSERT INTO {} VALUES (1)", options.stop_table));
  PQfinish(conn);
  std::printf(
      "{\"transactions\": %llu, \"seconds\": %.3f, \"rate\": %.1f, \"late_over_1ms\": %llu}\n",
      static_cast<unsigned long long>(total), taken, static_cast<double>(total) / taken,
      static_cast<unsigned long long>(late));
  return 0;
}
