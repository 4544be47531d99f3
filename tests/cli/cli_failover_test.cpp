// `vil-cdc stream` across a failover and on a standby, against real
// primaries and physical standbys (ThrowawayCluster::make_standby()):
//
// - failover slots (17+): `--failover` makes the slot a failover slot (or
//   turns an existing one to it), says when the standby holds a ready copy
//   (stderr, vil_cdc_slot_failover_ready), and after the standby is
//   promoted the stream goes on from the copy with every row; without it
//   the slot is missing there (exit 4, saying so); before 17 it is refused;
// - decoding on a standby (16+): a slot made on the standby streams what
//   the primary writes; --create-publication is refused there; before 16 a
//   standby is refused with the reason.
//
// Each test starts its own clusters (the version of $VIL_PG_VERSION unless it
// names one) and skips when that version cannot do what it tests.

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <optional>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <libpq-fe.h>

#include "cli/cli_test_support.hpp"

namespace vil::testing::cli {
namespace {

constexpr const char* kDatabase = "shop";
constexpr const char* kSlot = "shop_slot";
constexpr const char* kPublication = "shop_pub";

int major_version(const ThrowawayCluster& pg) {
  return std::stoi(
      pg.query("SELECT current_setting('server_version_num')::int / 10000").at(0).at(0).value());
}

std::string value_of(const ThrowawayCluster& pg, const std::string& sql,
                     const std::string& dbname = kDatabase) {
  const auto rows = pg.query(sql, dbname);
  return rows.empty() ? "<no row>" : rows.at(0).at(0).value_or("<null>");
}

// A primary of `version` (empty: $VIL_PG_VERSION or the default) with the
// database, a table t (id int primary key) and a publication of all tables;
// nullopt when that version is not installed.
std::optional<ThrowawayCluster> start_primary(const std::string& version = {}) {
  try {
    auto pg = ThrowawayCluster::start({.keep_on_failure = true, .server_version = version});
    pg.create_database(kDatabase);
    pg.execute("CREATE TABLE t (id int PRIMARY KEY)", kDatabase);
    pg.execute(fmt::format("CREATE PUBLICATION {} FOR ALL TABLES", kPublication), kDatabase);
    return pg;
  } catch (const ClusterError& e) {
    if (std::string(e.what()).find("no PostgreSQL") != std::string::npos) return std::nullopt;
    throw;
  }
}

// libpq's multi-host form: the primary first, then the standby; libpq takes
// the first that accepts writes, so after a failover the promoted standby.
std::string both(const ThrowawayCluster& primary, const ThrowawayCluster& standby) {
  return fmt::format(
      "host=127.0.0.1,127.0.0.1 port={},{} user=postgres dbname={} "
      "target_session_attrs=read-write connect_timeout=5",
      primary.port(), standby.port(), kDatabase);
}

std::vector<std::string> stream_command(const std::string& conn,
                                        std::initializer_list<std::string> more) {
  std::vector<std::string> args{"stream",     "--conn",
                                conn,         "--slot",
                                kSlot,        "--publication",
                                kPublication, "--slot-check-interval-ms",
                                "200",        "--status-interval-ms",
                                "500",        "--reconnect-initial-ms",
                                "100",        "--reconnect-max-ms",
                                "500"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// The `after.id` of every line, in order.
std::vector<int> ids_of(const std::string& out) {
  std::vector<int> ids;
  for (const Json& line : parse_lines(out)) {
    EXPECT_EQ(line["op"], "insert") << line.dump();
    EXPECT_EQ(line["table"], "t") << line.dump();
    ids.push_back(line["after"]["id"].get<int>());
  }
  return ids;
}

// vil-cdc streams from `pg` (START_REPLICATION, after its slot was made):
// what commits now is in the stream.
bool vil_cdc_streams_from(const ThrowawayCluster& pg) {
  return value_of(pg,
                  "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'vil-cdc' "
                  "AND state IN ('catchup', 'streaming')") == "1";
}

// Whole lines only: a line still being written is not counted.
size_t complete_lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string http_get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto result = client.Get(path);
  return result && result->status == 200 ? result->body : std::string();
}

// The port vil-cdc says it serves metrics on.
int metrics_port(const ChildProcess& child) {
  const std::regex serving(R"(serving metrics at http://127\.0\.0\.1:(\d+)/metrics)");
  std::smatch match;
  int port = 0;
  EXPECT_TRUE(wait_until(
      [&] {
        const std::string err = child.err_so_far();
        if (!std::regex_search(err, match, serving)) return false;
        port = std::stoi(match[1].str());
        return true;
      },
      &child))
      << child.err_so_far();
  return port;
}

// A libpq notice processor that prints nothing.
void drop_notice(void* /*arg*/, const char* /*message*/) {}

// Inserts id 1, 2, ... one a transaction, until stopped. When the
// connection breaks it connects again, through the multi-host string to
// whichever server now takes writes, and inserts the same id again: a
// commit whose answer was lost may or may not have been kept, so the
// retry does nothing if the row is there.
class FailoverWriter {
 public:
  explicit FailoverWriter(std::string conninfo)
      : thread_([this, conninfo = std::move(conninfo)] { run(conninfo); }) {}
  ~FailoverWriter() { stop(); }
  FailoverWriter(const FailoverWriter&) = delete;
  FailoverWriter& operator=(const FailoverWriter&) = delete;

  [[nodiscard]] int written() const { return written_.load(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run(const std::string& conninfo) {
    PGconn* conn = nullptr;
    int next = 1;
    while (!stop_) {
      if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
        PQfinish(conn);
        conn = PQconnectdb(conninfo.c_str());
        // The server's words as it goes down are expected here.
        PQsetNoticeProcessor(conn, drop_notice, nullptr);
        if (PQstatus(conn) != CONNECTION_OK) {
          std::this_thread::sleep_for(50ms);
          continue;
        }
      }
      PGresult* result = PQexec(
          conn, fmt::format("INSERT INTO t VALUES ({}) ON CONFLICT (id) DO NOTHING", next).c_str());
      if (PQresultStatus(result) == PGRES_COMMAND_OK) written_ = next++;
      PQclear(result);
      std::this_thread::sleep_for(5ms);
    }
    PQfinish(conn);
  }

  std::atomic<int> written_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class CliFailover : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { install_cleanup_on_signal(); }
};

TEST_F(CliFailover, RefusedBeforePostgres17) {
  if (std::getenv("VIL_PG_BINDIR")) GTEST_SKIP() << "VIL_PG_BINDIR overrides the version";
  auto primary = start_primary("16");
  if (!primary) GTEST_SKIP() << "PostgreSQL 16 is not installed (scripts/setup.sh --pg-versions)";
  const std::string version = value_of(*primary, "SHOW server_version");
  const ProcessResult r = run_vil_cdc(
      stream_command(primary->conninfo(kDatabase), {"--create-slot", "--failover", "--quiet"}));
  expect_one_line_error(r, 2,
                        {"--failover (cdc.failover): failover slots need PostgreSQL 17 or later; "
                         "the server is " +
                         version.substr(0, version.find(' '))});
  // Refused before anything was made.
  EXPECT_EQ(value_of(*primary, "SELECT count(*) FROM pg_replication_slots"), "0");
}

TEST_F(CliFailover, TurnsFailoverOnForAnExistingSlot) {
  auto primary = start_primary();
  ASSERT_TRUE(primary) << "the default server is always installed";
  if (major_version(*primary) < 17) GTEST_SKIP() << "failover slots need PostgreSQL 17 or later";
  primary->execute(
      fmt::format("SELECT pg_create_logical_replication_slot('{}', 'pgoutput')", kSlot), kDatabase);
  primary->execute("INSERT INTO t VALUES (1)", kDatabase);
  const std::string end = value_of(*primary, "SELECT pg_current_wal_lsn()");
  const ProcessResult r =
      run_vil_cdc(stream_command(primary->conninfo(kDatabase), {"--failover", "--end-lsn", end}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(ids_of(r.out), (std::vector<int>{1}));
  EXPECT_EQ(r.err, fmt::format("vil-cdc: slot \"{}\" was made without failover: turned it on "
                               "(ALTER_REPLICATION_SLOT), so standbys with "
                               "sync_replication_slots = on keep a copy of it\n",
                               kSlot));
  EXPECT_EQ(value_of(*primary, fmt::format("SELECT failover FROM pg_replication_slots WHERE "
                                           "slot_name = '{}'",
                                           kSlot)),
            "t");
  // The next run finds it so and says nothing.
  const ProcessResult again = run_vil_cdc(stream_command(
      primary->conninfo(kDatabase),
      {"--failover", "--end-lsn", value_of(*primary, "SELECT pg_current_wal_lsn()")}));
  ASSERT_TRUE(again.exited(0)) << again.describe();
  EXPECT_EQ(again.err, "");
}

TEST_F(CliFailover, StreamGoesOnFromTheSynchronizedSlotAfterPromotion) {
  auto primary = start_primary();
  ASSERT_TRUE(primary);
  if (major_version(*primary) < 17) GTEST_SKIP() << "failover slots need PostgreSQL 17 or later";
  auto standby = primary->make_standby({.sync_slots = true});
  // Commits wait for the standby, so none that the writer saw succeed is
  // lost in the failover.
  primary->execute("ALTER SYSTEM SET synchronous_standby_names = '*'");
  primary->execute("SELECT pg_reload_conf()");

  const std::string conn = both(*primary, standby);
  ChildProcess child(vil_cdc_path(), stream_command(conn, {"--create-slot", "--failover",
                                                           "--metrics-addr", "127.0.0.1:0"}));
  const int port = metrics_port(child);
  ASSERT_TRUE(wait_until([&] { return vil_cdc_streams_from(*primary); }, &child))
      << child.err_so_far();
  FailoverWriter writer(conn);
  const std::string ready = fmt::format(
      "vil-cdc: slot \"{}\": the standby at 127.0.0.1:{} holds a synchronized copy; "
      "a failover there keeps the slot\n",
      kSlot, standby.port());
  ASSERT_TRUE(
      wait_until([&] { return child.err_so_far().find(ready) != std::string::npos; }, &child, 120s))
      << child.err_so_far() << standby.log_tail();
  EXPECT_TRUE(wait_until(
      [&] {
        return http_get(port, "/metrics")
                   .find(fmt::format("vil_cdc_slot_failover_ready{{slot=\"{}\",standby=\"127.0.0.1:"
                                     "{}\"}} 1\n",
                                     kSlot, standby.port())) != std::string::npos;
      },
      &child));
  EXPECT_EQ(value_of(standby, fmt::format("SELECT failover::text || ' ' || synced::text FROM "
                                          "pg_replication_slots WHERE slot_name = '{}'",
                                          kSlot)),
            "true true");

  ASSERT_TRUE(wait_until([&] { return complete_lines(child.out_so_far()) >= 100; }, &child));
  primary->stop(StopMode::Immediate);
  const int written_before = writer.written();
  standby.promote();
  ASSERT_TRUE(wait_until([&] { return writer.written() >= written_before + 100; }, &child));
  writer.stop();
  const int last = writer.written();
  ASSERT_TRUE(wait_until(
      [&] {
        const auto ids = ids_of(child.out_so_far().substr(0, child.out_so_far().rfind('\n') + 1));
        return !ids.empty() && ids.back() == last;
      },
      &child))
      << child.err_so_far();
  child.send_signal(SIGTERM);
  const ProcessResult r = child.wait(kRunDeadline);
  ASSERT_TRUE(r.exited(0)) << r.describe();

  // The new primary has every id once (the writer retried what the crash
  // cut short); the output has each at least once, in commit order: a run
  // of consecutive ids, and after the reconnect again from a point no later
  // than where it stopped (what was not confirmed comes again).
  EXPECT_EQ(value_of(standby, "SELECT count(*)::text || ' ' || max(id) FROM t"),
            fmt::format("{} {}", last, last));
  const std::vector<int> ids = ids_of(r.out);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 1);
  int restarts = 0;
  for (size_t i = 1; i < ids.size(); ++i) {
    if (ids[i] == ids[i - 1] + 1) continue;
    ++restarts;
    EXPECT_LE(ids[i], ids[i - 1]) << "a gap after id " << ids[i - 1];
  }
  EXPECT_LE(restarts, 1) << "only the one reconnect sends anything again";
  EXPECT_EQ(ids.back(), last);
  EXPECT_NE(r.err.find(fmt::format("vil-cdc: reconnected to slot \"{}\" at ", kSlot)),
            std::string::npos)
      << r.err;
}

TEST_F(CliFailover, WithoutFailoverThePromotedStandbyHasNoSlot) {
  auto primary = start_primary();
  ASSERT_TRUE(primary);
  auto standby = primary->make_standby();
  const std::string conn = both(*primary, standby);
  ChildProcess child(vil_cdc_path(), stream_command(conn, {"--create-slot", "--quiet"}));
  ASSERT_TRUE(wait_until([&] { return vil_cdc_streams_from(*primary); }, &child))
      << child.err_so_far();
  primary->execute("INSERT INTO t SELECT generate_series(1, 3)", kDatabase);
  ASSERT_TRUE(wait_until([&] { return complete_lines(child.out_so_far()) == 3; }, &child));
  primary->stop(StopMode::Immediate);
  standby.promote();
  const ProcessResult r = child.wait(kRunDeadline);
  EXPECT_TRUE(r.exited(4)) << r.describe();
  EXPECT_EQ(ids_of(r.out), (std::vector<int>{1, 2, 3}));
  const auto lines = lines_of(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  const std::string& said = lines[0];
  EXPECT_NE(said.find(fmt::format("replication slot \"{}\" does not exist on the server at "
                                  "127.0.0.1:{} (timeline 2), which is not the one this run "
                                  "streamed from first (127.0.0.1:{}, timeline 1)",
                                  kSlot, standby.port(), primary->port())),
            std::string::npos)
      << said;
  EXPECT_NE(said.find("failover slot"), std::string::npos) << said;
  EXPECT_NE(said.find("a new slot with a snapshot is needed"), std::string::npos) << said;
}

class CliStandby : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { install_cleanup_on_signal(); }
};

TEST_F(CliStandby, StreamsFromASlotOnTheStandby) {
  auto primary = start_primary();
  ASSERT_TRUE(primary);
  if (major_version(*primary) < 16) GTEST_SKIP() << "decoding on a standby needs PostgreSQL 16";
  auto standby = primary->make_standby();
  ChildProcess child(vil_cdc_path(),
                     stream_command(standby.conninfo(kDatabase),
                                    {"--create-slot", "--metrics-addr", "127.0.0.1:0"}));
  // The slot on the standby is consistent once the primary logged its
  // running transactions; ask for that record until vil-cdc streams.
  ASSERT_TRUE(wait_until(
      [&] {
        primary->execute("SELECT pg_log_standby_snapshot()");
        std::this_thread::sleep_for(100ms);
        return vil_cdc_streams_from(standby);
      },
      &child))
      << child.err_so_far();
  const int port = metrics_port(child);

  constexpr int kRows = 50;
  BackgroundWriter writer(
      primary->conninfo(kDatabase), kRows,
      [](int i) { return fmt::format("INSERT INTO t VALUES ({})", i); }, 2ms);
  ASSERT_TRUE(writer.join());
  ASSERT_TRUE(wait_until(
      [&] { return complete_lines(child.out_so_far()) >= static_cast<size_t>(kRows); }, &child))
      << child.err_so_far();
  // The lag is measured against what the standby received (on a standby
  // pg_current_wal_lsn() fails): there, and nothing behind it.
  EXPECT_TRUE(wait_until(
      [&] {
        const std::string metrics = http_get(port, "/metrics");
        return metrics.find("\nvil_cdc_lag_bytes 0\n") != std::string::npos &&
               metrics.find("\nvil_cdc_server_wal_lsn 0\n") == std::string::npos;
      },
      &child))
      << http_get(port, "/metrics");
  child.send_signal(SIGTERM);
  const ProcessResult r = child.wait(kRunDeadline);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  std::vector<int> expected(kRows);
  for (int i = 0; i < kRows; ++i) expected[i] = i + 1;
  EXPECT_EQ(ids_of(r.out), expected);
  EXPECT_EQ(value_of(standby, fmt::format("SELECT count(*) FROM pg_replication_slots WHERE "
                                          "slot_name = '{}'",
                                          kSlot)),
            "1");
  EXPECT_EQ(value_of(*primary, fmt::format("SELECT count(*) FROM pg_replication_slots WHERE "
                                           "slot_name = '{}'",
                                           kSlot)),
            "0");
}

TEST_F(CliStandby, CreatePublicationIsRefusedOnAStandby) {
  auto primary = start_primary();
  ASSERT_TRUE(primary);
  auto standby = primary->make_standby();
  const ProcessResult r = run_vil_cdc(stream_command(
      standby.conninfo(kDatabase), {"--create-slot", "--create-publication", "all", "--quiet"}));
  expect_one_line_error(
      r, 2,
      {fmt::format("--create-publication (cdc.create_publication): the server at 127.0.0.1:{} "
                   "is a standby, which is read-only: create publication \"{}\" on the primary",
                   standby.port(), kPublication)});
  EXPECT_EQ(value_of(standby, "SELECT count(*) FROM pg_replication_slots"), "0");
}

TEST_F(CliStandby, RefusedOnAStandbyBeforePostgres16) {
  if (std::getenv("VIL_PG_BINDIR")) GTEST_SKIP() << "VIL_PG_BINDIR overrides the version";
  auto primary = start_primary("15");
  ASSERT_TRUE(primary) << "Debian's 15 is always installed";
  auto standby = primary->make_standby();
  const std::string version = value_of(standby, "SHOW server_version");
  const ProcessResult r =
      run_vil_cdc(stream_command(standby.conninfo(kDatabase), {"--create-slot", "--quiet"}));
  expect_one_line_error(
      r, 4,
      {fmt::format("the server at 127.0.0.1:{} is a standby of PostgreSQL {}; logical decoding on "
                   "a standby needs PostgreSQL 16 or later: connect to the primary",
                   standby.port(), version.substr(0, version.find(' ')))});
}

}  // namespace
}  // namespace vil::testing::cli
