// `vil-cdc stream` end to end: where it stops (--end-lsn, --max-events),
// the Debezium envelope, creating its slot and publication, appending to an
// output file, and stopping on SIGTERM/SIGINT without losing a change.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "cli/cli_test_support.hpp"

namespace vil::testing::cli {
namespace {

class CliStream : public CliTest {};

// "2026-11-24T01:05:00.123456Z" -> Unix milliseconds.
int64_t unix_ms(const std::string& ts) {
  std::tm tm{};
  if (strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr || ts.size() < 23) {
    ADD_FAILURE() << "not a commit_ts: " << ts;
    return 0;
  }
  return static_cast<int64_t>(timegm(&tm)) * 1000 + std::stoi(ts.substr(20, 3));
}

// The commit LSNs of the transactions in `lines`, in order of appearance.
std::vector<std::string> commits_of(const std::vector<Json>& lines) {
  std::vector<std::string> commits;
  for (const Json& line : lines) {
    const std::string commit = line["commit_lsn"].get<std::string>();
    if (commits.empty() || commits.back() != commit) commits.push_back(commit);
  }
  return commits;
}

TEST_F(CliStream, EndLsnStopsAfterTheLastTransactionBeforeIt) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  make_stream();
  execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
  execute("INSERT INTO t VALUES (3, 'c'); UPDATE t SET v = 'B' WHERE id = 2");
  const std::string end = current_wal_lsn();
  execute("INSERT INTO t VALUES (4, 'd')");

  const ProcessResult r = run_vil_cdc(stream_args({"--end-lsn", end}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.err, "");
  const auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0]["after"]["id"], 1);
  EXPECT_EQ(lines[1]["after"]["id"], 2);
  EXPECT_EQ(lines[2]["after"]["id"], 3);
  EXPECT_EQ(lines[3]["op"], "update");
  EXPECT_EQ(lines[3]["after"], Json::parse(R"({"id":2,"v":"B"})"));
  const auto commits = commits_of(lines);
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_EQ(lines[2]["seq"], 0);
  EXPECT_EQ(lines[3]["seq"], 1);
  const uint64_t second_commit = lsn_value(commits[1]);
  // The walsender has taken the last status update in once it let go of the slot.
  ASSERT_TRUE(wait_until([&] { return !slot_active(slot_); }, nullptr));
  const uint64_t confirmed = confirmed_flush_lsn(slot_);
  EXPECT_GE(confirmed, second_commit) << "the second transaction was confirmed";

  // The rest: the third transaction alone, which the slot had not confirmed.
  const ProcessResult rest = run_vil_cdc(stream_args({"--end-lsn", current_wal_lsn()}));
  ASSERT_TRUE(rest.exited(0)) << rest.describe();
  const auto rest_lines = parse_lines(rest.out);
  ASSERT_EQ(rest_lines.size(), 1u) << rest.out;
  EXPECT_EQ(rest_lines[0]["after"]["id"], 4);
  const uint64_t third_commit = lsn_value(rest_lines[0]["commit_lsn"].get<std::string>());
  EXPECT_LT(confirmed, third_commit) << "the third transaction was not confirmed by the first run";
  EXPECT_GE(lsn_value(end), second_commit);
  EXPECT_LT(lsn_value(end), third_commit);
}

TEST_F(CliStream, SnapshotOnlyWritesEveryRowAsReadsAndExits) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  execute("INSERT INTO t VALUES (1, 'a'), (2, NULL)");
  make_stream();
  const ProcessResult r =
      run_vil_cdc(stream_args({"--snapshot", "only", "--snapshot-workers", "2"}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.err, "");
  auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  std::sort(lines.begin(), lines.end(),
            [](const Json& a, const Json& b) { return a["after"]["id"] < b["after"]["id"]; });
  EXPECT_EQ(lines[0]["op"], "read");
  EXPECT_EQ(lines[0]["schema"], "public");
  EXPECT_EQ(lines[0]["table"], "t");
  EXPECT_EQ(lines[0]["xid"], 0);
  EXPECT_EQ(lines[0]["before"], nullptr);
  EXPECT_EQ(lines[0]["after"], Json::parse(R"({"id":1,"v":"a"})"));
  EXPECT_EQ(lines[1]["after"], Json::parse(R"({"id":2,"v":null})"));
  EXPECT_EQ(lines[0]["commit_lsn"], lines[1]["commit_lsn"]);
  EXPECT_NE(lines[0]["seq"], lines[1]["seq"]);

  const ProcessResult d = run_vil_cdc(stream_args({"--snapshot", "only", "--format", "debezium"}));
  ASSERT_TRUE(d.exited(0)) << d.describe();
  const auto events = parse_lines(d.out);
  ASSERT_EQ(events.size(), 2u) << d.out;
  EXPECT_EQ(events[0]["op"], "r");
  EXPECT_EQ(events[0]["source"]["snapshot"], "true");
  EXPECT_EQ(events[1]["op"], "r");
  EXPECT_EQ(events[1]["source"]["snapshot"], "last");
  EXPECT_EQ(events[1]["source"]["txId"], nullptr);
}

TEST_F(CliStream, SnapshotTablesStartAndEndAsLogRecords) {
  execute("CREATE TABLE full_one (id int PRIMARY KEY)");
  execute("CREATE TABLE empty_one (id int PRIMARY KEY)");
  execute("INSERT INTO full_one SELECT generate_series(1, 3)");
  make_stream();
  TempDir dir;
  const ProcessResult r = run_vil_cdc(stream_args(
      {"--snapshot", "only", "--log", (dir / "log.jsonl").string(), "--log-format", "json"}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(parse_lines(r.out).size(), 3u);
  // op_type 3 (shown as MqOp's "nack") starts a table, 4 ("dlq") ends it
  // with its rows as the offset; a row is 0 ("publish"), as an insert.
  std::map<std::string, std::vector<uint64_t>> by_op;
  for (const Json& record : parse_lines(read_text_file(dir / "log.jsonl"))) {
    by_op[record["op_type"]].push_back(record["offset"].get<uint64_t>());
  }
  EXPECT_EQ(by_op["publish"].size(), 3u);
  EXPECT_EQ(by_op["nack"], (std::vector<uint64_t>{0, 0}));
  auto ends = by_op["dlq"];
  std::sort(ends.begin(), ends.end());
  EXPECT_EQ(ends, (std::vector<uint64_t>{0, 3}));
}

TEST_F(CliStream, SnapshotCommandAsksTheRunningStreamToReadTablesAgain) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  execute("CREATE TABLE other (id int PRIMARY KEY)");
  execute("INSERT INTO t SELECT g, 'r' || g FROM generate_series(1, 5) g");
  make_stream("t");
  TempDir state;
  ChildProcess child(vil_cdc_path(), stream_args({"--format", "debezium", "--max-events", "6",
                                                  "--snapshot-chunk-size", "2", "--snapshot-state",
                                                  (state / "progress.json").string()}));
  ASSERT_TRUE(wait_until([&] { return slot_active(slot_); }, &child)) << child.wait(1ms).describe();

  const ProcessResult asked = run_vil_cdc(
      {"snapshot", "--conn", conninfo(), "--publication", publication_, "--table", "t"});
  ASSERT_TRUE(asked.exited(0)) << asked.describe();
  EXPECT_EQ(asked.out, "");
  EXPECT_TRUE(asked.err.starts_with("vil-cdc: requested a snapshot of 1 table of publication \"" +
                                    publication_ + "\" at "))
      << asked.err;
  ASSERT_TRUE(wait_until([&] { return parse_lines(child.out_so_far()).size() >= 5; }, &child))
      << child.wait(1ms).describe();
  execute("INSERT INTO t VALUES (6, 'streamed')");
  const ProcessResult r = child.wait(kRunDeadline);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto events = parse_lines(r.out);
  ASSERT_EQ(events.size(), 6u) << r.out;
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(events[i]["op"], "r");
    EXPECT_EQ(events[i]["source"]["snapshot"], "incremental");
    EXPECT_EQ(events[i]["after"]["id"], i + 1);
    EXPECT_EQ(events[i]["after"]["v"], "r" + std::to_string(i + 1));
  }
  EXPECT_EQ(events[5]["op"], "c");
  EXPECT_EQ(events[5]["after"]["v"], "streamed");
  EXPECT_NE(read_text_file(state / "progress.json").find("\"incremental\": []"), std::string::npos);

  // Refused, with nothing written: a table outside the publication, an
  // unknown publication, a server that is not there.
  expect_one_line_error(
      run_vil_cdc(
          {"snapshot", "--conn", conninfo(), "--publication", publication_, "--table", "other"}),
      4, {"the snapshot request was refused: table \"other\" is not in publication"});
  expect_one_line_error(
      run_vil_cdc({"snapshot", "--conn", conninfo(), "--publication", "nope", "--table", "t"}), 4,
      {"publication \"nope\" does not exist"});
  expect_one_line_error(run_vil_cdc({"snapshot", "--conn", "host=127.0.0.1 port=1 dbname=x",
                                     "--publication", "p", "--table", "t"}),
                        3, {"could not connect to request a snapshot"});
  expect_one_line_error(run_vil_cdc({"snapshot", "--conn", conninfo(), "--table", "t"}), 2,
                        {"--publication is required"});
}

TEST_F(CliStream, SnapshotModeIsCheckedByName) {
  make_stream();
  const ProcessResult r = run_vil_cdc(stream_args({"--snapshot", "sometimes"}));
  ASSERT_TRUE(r.exited(2)) << r.describe();
  EXPECT_EQ(r.err,
            "vil-cdc: configuration: --snapshot: 'sometimes' is not one of never, initial, only\n");
  const ProcessResult w = run_vil_cdc(stream_args({"--snapshot-workers", "0"}));
  ASSERT_TRUE(w.exited(2)) << w.describe();
  EXPECT_EQ(w.err,
            "vil-cdc: configuration: --snapshot-workers (cdc.snapshot_workers): must be between 1 "
            "and 64\n");
}

TEST_F(CliStream, EndLsnWithNothingLeftExitsAtOnce) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  // Nothing written at all.
  ProcessResult r = run_vil_cdc(stream_args({"--end-lsn", current_wal_lsn()}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");

  execute("INSERT INTO t VALUES (1)");
  const std::string after_insert = current_wal_lsn();
  r = run_vil_cdc(stream_args({"--end-lsn", after_insert}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(lines_of(r.out).size(), 1u);

  // Everything up to the end LSN was consumed: the same end, or one behind
  // the slot, writes nothing and ends.
  for (const std::string& end : {after_insert, std::string("0/1"), current_wal_lsn()}) {
    r = run_vil_cdc(stream_args({"--end-lsn", end}));
    EXPECT_TRUE(r.exited(0)) << "--end-lsn " << end << ": " << r.describe();
    EXPECT_EQ(r.out, "") << "--end-lsn " << end;
  }
}

TEST_F(CliStream, MaxEventsWritesExactlyThatManyAndConfirmsOnlyWholeTransactions) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  execute("INSERT INTO t VALUES (1), (2)");
  execute("INSERT INTO t VALUES (3), (4)");
  execute("INSERT INTO t VALUES (5)");

  ProcessResult r = run_vil_cdc(stream_args({"--max-events", "3"}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(lines[i]["after"]["id"], i + 1);

  // The second transaction was cut short, so it comes again, whole.
  r = run_vil_cdc(stream_args({"--max-events", "1"}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_EQ(lines[0]["after"]["id"], 3);
  EXPECT_EQ(lines[0]["seq"], 0);

  r = run_vil_cdc(stream_args({"--end-lsn", current_wal_lsn()}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0]["after"]["id"], 3);
  EXPECT_EQ(lines[1]["after"]["id"], 4);
  EXPECT_EQ(lines[2]["after"]["id"], 5);
}

// The run ends at the Commit of the Nth change's transaction: one
// single-row transaction per run, each confirmed, so each run moves on.
TEST_F(CliStream, MaxEventsOneOnSingleRowTransactionsMovesOnEachRun) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  for (int id = 1; id <= 3; ++id) execute(fmt::format("INSERT INTO t VALUES ({})", id));
  for (int id = 1; id <= 3; ++id) {
    SCOPED_TRACE(id);
    const ProcessResult r = run_vil_cdc(stream_args({"--max-events", "1"}));
    ASSERT_TRUE(r.exited(0)) << r.describe();
    const auto lines = parse_lines(r.out);
    ASSERT_EQ(lines.size(), 1u) << r.out;
    EXPECT_EQ(lines[0]["after"]["id"], id);
  }
}

TEST_F(CliStream, MaxEventsEndingOnATransactionsLastRowConfirmsIt) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  execute("INSERT INTO t VALUES (1), (2)");
  execute("INSERT INTO t VALUES (3)");
  ProcessResult r = run_vil_cdc(stream_args({"--max-events", "2"}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  const uint64_t commit = lsn_value(lines[1]["commit_lsn"].get<std::string>());
  ASSERT_TRUE(wait_until([&] { return !slot_active(slot_); }, nullptr));
  EXPECT_GT(confirmed_flush_lsn(slot_), commit) << "the whole first transaction was confirmed";
  r = run_vil_cdc(stream_args({"--max-events", "1"}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_EQ(lines[0]["after"]["id"], 3);
}

// A write that fails (ENOSPC) is a fault of the stream: exit 5, one line,
// and nothing confirmed.
TEST_F(CliStream, OutputWriteFailureExitsFiveAndConfirmsNothing) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  execute("INSERT INTO t VALUES (1)");
  const std::string end = current_wal_lsn();
  const ProcessResult r = run_vil_cdc(stream_args({"--output", "/dev/full", "--end-lsn", end}));
  expect_one_line_error(r, 5, {"/dev/full", "No space left on device"});
  ASSERT_TRUE(wait_until([&] { return !slot_active(slot_); }, nullptr));
  const ProcessResult again = run_vil_cdc(stream_args({"--end-lsn", end}));
  ASSERT_TRUE(again.exited(0)) << again.describe();
  const auto lines = parse_lines(again.out);
  ASSERT_EQ(lines.size(), 1u) << again.out;
  EXPECT_EQ(lines[0]["after"]["id"], 1);
}

// The walsender is terminated and the database refuses new connections: the
// one reconnect allowed fails, and the run ends as a stream fault naming the
// slot.
TEST_F(CliStream, LostStreamThatCannotBeResumedExitsFiveNamingTheSlot) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  ChildProcess child(vil_cdc_path(),
                     stream_args({"--reconnect-max-attempts", "1", "--reconnect-initial-ms", "50",
                                  "--reconnect-max-ms", "100"}));
  ASSERT_TRUE(wait_until([&] { return slot_active(slot_); }, &child)) << child.wait(1ms).describe();
  struct AllowAgain {
    ThrowawayCluster& pg;
    std::string db;
    ~AllowAgain() {
      pg.execute(fmt::format("ALTER DATABASE {} ALLOW_CONNECTIONS true", db), "postgres");
    }
  } allow_again{cluster(), dbname()};
  cluster().execute(fmt::format("ALTER DATABASE {} ALLOW_CONNECTIONS false", dbname()), "postgres");
  cluster().execute(
      "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
      "WHERE slot_name = '" +
          slot_ + "'",
      "postgres");
  const ProcessResult r = child.wait(kRunDeadline);
  expect_one_line_error(
      r, 5,
      {"slot \"" + slot_ + "\"", "could not be resumed", "not currently accepting connections"});
}

// libpq's rule, without a dbname in the string: the database is named like
// the user, from the string or from PGUSER.
TEST_F(CliStream, DebeziumSourceDbWhenTheConnStringNamesNoDatabase) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  const std::string role = dbname();
  cluster().execute("CREATE ROLE " + role + " LOGIN REPLICATION", "postgres");
  struct DropRole {
    ThrowawayCluster& pg;
    std::string role;
    ~DropRole() {
      try {
        pg.execute("DROP ROLE IF EXISTS " + role, "postgres");
      } catch (const std::exception&) {
      }
    }
  } drop_role{cluster(), role};
  const std::string server = fmt::format("host=127.0.0.1 port={}", cluster().port());
  auto debezium_run = [&](const std::string& conn, const std::vector<std::string>& env) {
    return run_vil_cdc({"stream", "--conn", conn, "--slot", slot_, "--publication", publication_,
                        "--quiet", "--format", "debezium", "--end-lsn", current_wal_lsn()},
                       kRunDeadline, env);
  };
  execute("INSERT INTO t VALUES (1)");
  ProcessResult r = debezium_run(server + " user=" + role, {"PGDATABASE="});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_EQ(lines[0]["source"]["db"], dbname());

  execute("INSERT INTO t VALUES (2)");
  r = debezium_run(server, {"PGUSER=" + role});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_EQ(lines[0]["after"]["id"], 2);
  EXPECT_EQ(lines[0]["source"]["db"], dbname());
}

// Two slots see the same changes: one as JSON lines, one as Debezium
// envelopes, so the envelope's xid and LSN can be checked against the lines.
TEST_F(CliStream, DebeziumEnvelopeForEveryOperation) {
  execute("CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(6, 2))");
  make_stream();
  const std::string debezium_slot = unique_name("slot");
  execute("SELECT pg_create_logical_replication_slot('" + debezium_slot + "', 'pgoutput')");
  execute("INSERT INTO items VALUES (1, 'pen', 1.50)");
  execute("UPDATE items SET name = 'ink pen' WHERE id = 1");
  execute("DELETE FROM items WHERE id = 1");
  execute("TRUNCATE items");
  const std::string end = current_wal_lsn();

  const ProcessResult plain = run_vil_cdc(stream_args({"--end-lsn", end}));
  ASSERT_TRUE(plain.exited(0)) << plain.describe();
  const ProcessResult r =
      run_vil_cdc({"stream", "--conn", conninfo(), "--slot", debezium_slot, "--publication",
                   publication_, "--quiet", "--format", "debezium", "--end-lsn", end});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto reference = parse_lines(plain.out);
  const auto lines = parse_lines(r.out);
  ASSERT_EQ(reference.size(), 4u) << plain.out;
  ASSERT_EQ(lines.size(), 4u) << r.out;

  const char* ops[] = {"c", "u", "d", "t"};
  // REPLICA IDENTITY DEFAULT, as Debezium's connector writes it: no before for
  // an update that kept its key; for a delete the key's value, the rest null.
  const Json befores[] = {nullptr, nullptr, Json::parse(R"({"id":1,"name":null,"price":null})"),
                          nullptr};
  const Json afters[] = {Json::parse(R"({"id":1,"name":"pen","price":"1.50"})"),
                         Json::parse(R"({"id":1,"name":"ink pen","price":"1.50"})"), nullptr,
                         nullptr};
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(r.out);
    const Json& e = lines[i];
    std::vector<std::string> keys;
    for (const auto& [key, value] : e.items()) keys.push_back(key);
    EXPECT_EQ(keys, (std::vector<std::string>{"before", "after", "source", "op", "ts_ms",
                                              "transaction"}));
    EXPECT_EQ(e["op"], ops[i]);
    EXPECT_EQ(e["before"], befores[i]);
    EXPECT_EQ(e["after"], afters[i]);
    EXPECT_TRUE(e["ts_ms"].is_number_integer());
    EXPECT_TRUE(e["transaction"].is_null());
    const Json& s = e["source"];
    EXPECT_EQ(s["connector"], "postgresql");
    EXPECT_EQ(s["db"], dbname());
    EXPECT_EQ(s["schema"], "public");
    EXPECT_EQ(s["table"], "items");
    EXPECT_EQ(s["snapshot"], "false");
    EXPECT_TRUE(s["txId"].is_number_unsigned());
    EXPECT_EQ(s["txId"], reference[i]["xid"]);
    ASSERT_TRUE(s["lsn"].is_number_unsigned());
    EXPECT_EQ(s["lsn"].get<uint64_t>(), lsn_value(reference[i]["lsn"].get<std::string>()));
    // source.ts_ms is the commit time, in milliseconds.
    const std::string ts = reference[i]["commit_ts"].get<std::string>();
    EXPECT_EQ(s["ts_ms"].get<int64_t>(), unix_ms(ts)) << ts;
  }
  EXPECT_EQ(reference[3]["op"], "truncate");
}

TEST_F(CliStream, CreatesSlotAndPublicationForAllTables) {
  execute("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY)");
  const std::string slot = unique_name("slot");
  const std::string pub = unique_name("pub");
  ChildProcess child(vil_cdc_path(),
                     {"stream", "--conn", conninfo(), "--slot", slot, "--publication", pub,
                      "--quiet", "--create-slot", "--create-publication", "all", "--max-events",
                      "2", "--status-interval-ms", "200"});
  ASSERT_TRUE(wait_until([&] { return slot_active(slot); }, &child))
      << "the slot was never created and used: " << child.wait(1ms).describe();
  EXPECT_EQ(query_value("SELECT puballtables FROM pg_publication WHERE pubname = '" + pub + "'"),
            "t");
  execute("INSERT INTO a VALUES (1)");
  execute("INSERT INTO b VALUES (2)");
  const ProcessResult r = child.wait(kRunDeadline);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0]["table"], "a");
  EXPECT_EQ(lines[1]["table"], "b");
  // A permanent slot: it outlives the session.
  EXPECT_EQ(
      query_value("SELECT temporary FROM pg_replication_slots WHERE slot_name = '" + slot + "'"),
      "f");
}

TEST_F(CliStream, CreatesPublicationForListedTablesAndATemporarySlot) {
  execute(
      "CREATE TABLE t1 (id int PRIMARY KEY); CREATE TABLE t2 (id int PRIMARY KEY);"
      "CREATE TABLE t3 (id int PRIMARY KEY)");
  const std::string slot = unique_name("slot");
  const std::string pub = unique_name("pub");
  ChildProcess child(vil_cdc_path(),
                     {"stream", "--conn", conninfo(), "--slot", slot, "--publication", pub,
                      "--quiet", "--create-slot", "--temporary-slot", "--create-publication",
                      "t1,public.t2", "--max-events", "2"});
  ASSERT_TRUE(wait_until([&] { return slot_active(slot); }, &child))
      << "the slot was never created and used: " << child.wait(1ms).describe();
  EXPECT_EQ(query_value("SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY tablename) "
                        "FROM pg_publication_tables WHERE pubname = '" +
                        pub + "'"),
            "public.t1,public.t2");
  execute("INSERT INTO t3 VALUES (3)");
  execute("INSERT INTO t1 VALUES (1)");
  execute("INSERT INTO t2 VALUES (2)");
  const ProcessResult r = child.wait(kRunDeadline);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0]["table"], "t1");
  EXPECT_EQ(lines[1]["table"], "t2");
  EXPECT_TRUE(wait_until([&] { return !slot_exists(slot); }, nullptr))
      << "a temporary slot goes with its session";
}

TEST_F(CliStream, OutputFileWithFsyncIsAppendedTo) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  TempDir dir;
  const std::string file = (dir / "changes.jsonl").string();
  execute("INSERT INTO t VALUES (1), (2)");
  ProcessResult r =
      run_vil_cdc(stream_args({"--output", file, "--fsync", "--end-lsn", current_wal_lsn()}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.out, "");
  auto lines = parse_lines(read_text_file(file));
  ASSERT_EQ(lines.size(), 2u);

  execute("INSERT INTO t VALUES (3)");
  r = run_vil_cdc(stream_args({"-o", file, "--fsync", "--end-lsn", current_wal_lsn()}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.out, "");
  lines = parse_lines(read_text_file(file));
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i]["op"], "insert");
    EXPECT_EQ(lines[i]["after"], Json({{"id", i + 1}}));
  }
}

// With --fsync, the folder of an output file this run created is fsynced
// once (its entry is what makes the file findable after a crash); an
// existing file's is not. Seen with strace, when it is installed.
TEST_F(CliStream, FsyncOfANewOutputFileAlsoSyncsItsFolder) {
  const std::string strace = "/usr/bin/strace";
  if (access(strace.c_str(), X_OK) != 0) GTEST_SKIP() << "strace is not installed";
  // A sandbox may forbid ptrace: then there is nothing to see with.
  if (!run_process(strace, {"-qq", "-o", "/dev/null", "/bin/true"}, kRunDeadline).exited(0)) {
    GTEST_SKIP() << "strace cannot trace here (ptrace not permitted)";
  }
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  TempDir dir;
  const std::string file = (dir / "changes.jsonl").string();
  // The folder's descriptor fsynced in the trace: opened with O_DIRECTORY.
  auto folder_fsyncs = [&](const std::string& trace_text) {
    int count = 0;
    const std::regex open_dir("openat\\(AT_FDCWD, \"" + dir.path().string() +
                              "\", [^)]*O_DIRECTORY[^)]*\\) = ([0-9]+)");
    for (const auto& line : lines_of(trace_text)) {
      std::smatch m;
      if (std::regex_search(line, m, open_dir)) {
        const std::string fd = m[1];
        for (const auto& later : lines_of(trace_text)) {
          if (later.find("fsync(" + fd + ")") != std::string::npos) ++count;
        }
      }
    }
    return count;
  };
  auto traced_run = [&](const std::string& trace) {
    // LeakSanitizer cannot run under ptrace: an --asan build would fail here.
    std::vector<std::string> args{
        "-f", "-qq", "-E",          "ASAN_OPTIONS=detect_leaks=0", "-e", "trace=openat,fsync",
        "-o", trace, vil_cdc_path()};
    for (const auto& a : stream_args({"--output", file, "--fsync", "--end-lsn", current_wal_lsn()}))
      args.push_back(a);
    return run_process(strace, args, kRunDeadline);
  };
  execute("INSERT INTO t VALUES (1)");
  ProcessResult r = traced_run((dir / "first.trace").string());
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(folder_fsyncs(read_text_file(dir / "first.trace")), 1)
      << read_text_file(dir / "first.trace");
  execute("INSERT INTO t VALUES (2)");
  r = traced_run((dir / "second.trace").string());
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(folder_fsyncs(read_text_file(dir / "second.trace")), 0)
      << read_text_file(dir / "second.trace");
  EXPECT_EQ(parse_lines(read_text_file(file)).size(), 2u);
}

// `vil-cdc stream | head -n 1`: the reader going away ends the stream
// quietly, with exit 0.
TEST_F(CliStream, ClosedPipeEndsQuietly) {
  execute("CREATE TABLE t (id int PRIMARY KEY, pad text)");
  make_stream();
  // Far more than a pipe holds, so that a write meets the closed end.
  execute("INSERT INTO t SELECT i, repeat('x', 200) FROM generate_series(1, 5000) i");
  std::vector<std::string> args{"-c", "set -o pipefail; \"$0\" \"$@\" | head -n 1", vil_cdc_path()};
  for (const auto& a : stream_args({"--end-lsn", current_wal_lsn()})) args.push_back(a);
  const ProcessResult r = run_process("/bin/bash", args, kRunDeadline);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.err, "");
  const auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["after"]["id"], 1);
}

// A writer keeps committing transactions of kRowsPerTransaction rows while
// vil-cdc streams to a file; the signal comes mid-stream. The first run's
// file holds whole lines, every transaction it holds whole is confirmed, and
// a second run delivers the rest: every row at least once, duplicates only
// of a transaction the first run had not confirmed.
class CliSignal : public CliTest, public ::testing::WithParamInterface<int> {};

constexpr int kRowsPerTransaction = 100;

TEST_P(CliSignal, StopsCleanlyAndResumesFromTheSlot) {
  const int sig = GetParam();
  execute("CREATE TABLE t (id int PRIMARY KEY, pad text)");
  make_stream();
  TempDir dir;
  const auto first_file = dir / "first.jsonl";
  const auto second_file = dir / "second.jsonl";

  std::atomic<bool> stop_writer{false};
  std::atomic<int> transactions{0};
  std::thread writer([&] {
    // At most 300 transactions, whatever happens to the test.
    try {
      for (int n = 0; n < 300 && !stop_writer.load(); ++n) {
        execute(
            fmt::format("INSERT INTO t SELECT i, repeat('x', 100) FROM generate_series({}, {}) i",
                        n * kRowsPerTransaction + 1, (n + 1) * kRowsPerTransaction));
        transactions.store(n + 1);
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the writer failed: " << e.what();
    }
  });
  struct JoinWriter {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~JoinWriter() {
      stop.store(true);
      if (thread.joinable()) thread.join();
    }
  } join_writer{stop_writer, writer};

  // A backlog first, so that the signal is likely to land inside a
  // transaction being delivered.
  ASSERT_TRUE(wait_until([&] { return transactions.load() >= 20; }, nullptr));
  ChildProcess child(vil_cdc_path(),
                     stream_args({"--output", first_file.string(), "--status-interval-ms", "100"}));
  const bool streaming = wait_until(
      [&] {
        return std::filesystem::exists(first_file) &&
               std::filesystem::file_size(first_file) > 100'000;
      },
      &child);
  child.send_signal(sig);
  const ProcessResult first = child.wait(kRunDeadline);
  stop_writer.store(true);
  writer.join();
  ASSERT_TRUE(streaming) << "no changes arrived: " << first.describe();
  ASSERT_TRUE(first.exited(0)) << "after signal " << sig << ": " << first.describe();
  EXPECT_EQ(first.out, "");

  // The walsender is gone once it has taken the last status update in.
  ASSERT_TRUE(wait_until([&] { return !slot_active(slot_); }, nullptr));
  const uint64_t confirmed = confirmed_flush_lsn(slot_);
  const std::string end = current_wal_lsn();
  const ProcessResult second =
      run_vil_cdc(stream_args({"--output", second_file.string(), "--end-lsn", end}));
  ASSERT_TRUE(second.exited(0)) << second.describe();

  const auto first_lines = parse_lines(read_text_file(first_file));
  const auto second_lines = parse_lines(read_text_file(second_file));
  ASSERT_FALSE(first_lines.empty());

  // (commit LSN, seq) -> row id, per run.
  using Key = std::pair<uint64_t, uint64_t>;
  auto index = [](const std::vector<Json>& lines) {
    std::map<Key, int> out;
    for (const Json& line : lines) {
      const Key key{lsn_value(line["commit_lsn"].get<std::string>()), line["seq"].get<uint64_t>()};
      EXPECT_TRUE(out.emplace(key, line["after"]["id"].get<int>()).second)
          << "the same change twice in one run: " << line.dump();
    }
    return out;
  };
  const auto first_changes = index(first_lines);
  const auto second_changes = index(second_lines);

  std::map<uint64_t, int> first_rows_per_commit;
  for (const auto& [key, id] : first_changes) ++first_rows_per_commit[key.first];
  // A transaction written whole before the signal is confirmed, except at
  // most the one in flight when the stop came: every row handed over but
  // not yet its Commit. That one is not confirmed, and comes again below.
  std::vector<uint64_t> whole_unconfirmed;
  for (const auto& [commit, rows] : first_rows_per_commit) {
    if (rows == kRowsPerTransaction && commit >= confirmed) whole_unconfirmed.push_back(commit);
  }
  EXPECT_LE(whole_unconfirmed.size(), 1u)
      << "a transaction written whole before the signal is confirmed";
  std::set<uint64_t> duplicated_commits;
  size_t duplicated_changes = 0;
  for (const auto& [key, id] : second_changes) {
    EXPECT_GE(key.first, confirmed) << "the server resent a confirmed transaction";
    if (auto it = first_changes.find(key); it != first_changes.end()) {
      EXPECT_EQ(it->second, id) << "the same (commit_lsn, seq) names another row";
      duplicated_commits.insert(key.first);
      ++duplicated_changes;
    }
  }
  EXPECT_LE(duplicated_commits.size(), 1u) << "only the transaction cut short comes twice";
  for (uint64_t commit : whole_unconfirmed) {
    EXPECT_EQ(duplicated_commits.count(commit), 1u)
        << "the transaction in flight at the stop comes again";
  }

  // Every row at least once, and nothing but those duplicates twice.
  std::set<int> ids;
  for (const auto& [key, id] : first_changes) ids.insert(id);
  for (const auto& [key, id] : second_changes) ids.insert(id);
  const int expected_rows = transactions.load() * kRowsPerTransaction;
  EXPECT_EQ(static_cast<int>(ids.size()), expected_rows);
  EXPECT_EQ(*ids.begin(), 1);
  EXPECT_EQ(*ids.rbegin(), expected_rows);
  EXPECT_EQ(first_changes.size() + second_changes.size(),
            static_cast<size_t>(expected_rows) + duplicated_changes);
}

INSTANTIATE_TEST_SUITE_P(Signals, CliSignal, ::testing::Values(SIGTERM, SIGINT),
                         [](const auto& param_info) {
                           return param_info.param == SIGTERM ? "SIGTERM" : "SIGINT";
                         });

}  // namespace
}  // namespace vil::testing::cli
