// `vil-cdc stream --sink nats` against a real nats-server with JetStream,
// started by the test: the exact messages (subjects, payloads, Nats-Msg-Id
// headers, order per subject), the stream created when missing or used as
// it is, the slot confirmed only after the PubAcks; the server stopped and
// started mid-stream and vil-cdc killed with SIGKILL again and again while
// a writer commits, each ending with every change exactly once in the
// stream; a server that is not there, a refused login and a message over
// max_payload ending the run with the right exit code, and never a
// password in the output.

#include <algorithm>
#include <atomic>
#include <csignal>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"
#include "cli/nats_test_server.hpp"

namespace vil::testing::cli {
namespace {

// Transaction i (from 1) of `rows` inserts into `table` (columns id, v), for
// a BackgroundWriter.
std::function<std::string(int)> insert_rows(std::string table, int rows) {
  return [table = std::move(table), rows](int i) {
    std::string sql = "BEGIN;";
    for (int r = 0; r < rows; ++r) {
      const int id = (i - 1) * rows + r + 1;
      sql += fmt::format("INSERT INTO {} VALUES ({}, 'row {}');", table, id, id);
    }
    return sql + "COMMIT;";
  };
}

class CliNatsSink : public CliTest {
 protected:
  static void SetUpTestSuite() {
    CliTest::SetUpTestSuite();
    if (NatsTestServer::binary().empty()) GTEST_SKIP() << "nats-server is not installed";
  }

  std::vector<std::string> nats_args(const std::string& url, const std::string& stream,
                                     std::initializer_list<std::string> more) const {
    std::vector<std::string> args = stream_args(
        {"--sink", "nats", "--nats-url", url, "--nats-stream", stream, "--reconnect-initial-ms",
         "50", "--reconnect-max-ms", "500", "--status-interval-ms", "200"});
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
};

// What each message must hold, given the line it carries: its subject,
// and its id ("commit_lsn:seq", ":n" for the n-th table of a truncate).
void expect_row_messages_in_commit_order(const std::vector<StoredMessage>& messages,
                                         const std::string& prefix, const std::string& table,
                                         size_t expected_rows) {
  std::set<std::string> ids;
  std::set<int> row_ids;
  std::pair<uint64_t, int> previous{0, -1};
  size_t count = 0;
  for (const StoredMessage& m : messages) {
    if (m.subject != prefix + ".public." + table) continue;
    ++count;
    const Json line = Json::parse(m.data);
    const std::pair<uint64_t, int> at{lsn_value(line["commit_lsn"].get<std::string>()),
                                      line["seq"].get<int>()};
    EXPECT_LT(previous, at) << "out of commit order at stream sequence " << m.sequence;
    previous = at;
    EXPECT_EQ(m.id, fmt::format("{}:{}", line["commit_lsn"].get<std::string>(), at.second));
    EXPECT_TRUE(ids.insert(m.id).second) << "twice: " << m.id;
    EXPECT_TRUE(row_ids.insert(line["after"]["id"].get<int>()).second) << "row twice: " << m.data;
  }
  EXPECT_EQ(count, expected_rows);
  EXPECT_EQ(row_ids.size(), expected_rows);
  if (!row_ids.empty()) {
    EXPECT_EQ(*row_ids.begin(), 1);
    EXPECT_EQ(*row_ids.rbegin(), static_cast<int>(expected_rows));
  }
}

TEST_F(CliNatsSink, PublishesTheExactLinesWithTheirIdsAndConfirmsAfterThePubAcks) {
  execute("CREATE TABLE a (id int PRIMARY KEY, v text)");
  execute("CREATE TABLE b (id int PRIMARY KEY, n int)");
  make_stream();
  // A second slot at the same point: the file sink's lines are what the
  // messages must carry, byte for byte.
  const std::string file_slot = unique_name("file");
  execute("SELECT pg_create_logical_replication_slot('" + file_slot + "', 'pgoutput')");
  execute("INSERT INTO a VALUES (1, 'one'), (2, 'two')");
  execute("INSERT INTO b VALUES (1, 10)");
  execute(
      "BEGIN; UPDATE a SET v = 'uno' WHERE id = 1; DELETE FROM b WHERE id = 1; "
      "SELECT pg_logical_emit_message(true, 'audit', 'hello'); COMMIT");
  execute("TRUNCATE a, b");
  const std::string end = current_wal_lsn();

  NatsTestServer server;
  const ProcessResult r =
      run_vil_cdc(nats_args(server.url(), "CDC", {"--topic-prefix", "shop", "--end-lsn", end}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.out, "");

  std::vector<std::string> file_args = stream_args({"--end-lsn", end});
  std::ranges::replace(file_args, slot_, file_slot);
  const ProcessResult f = run_vil_cdc(file_args);
  ASSERT_TRUE(f.exited(0)) << f.describe();
  const std::vector<std::string> lines = lines_of(f.out);
  ASSERT_EQ(lines.size(), 7u) << f.out;

  NatsTestClient client(server.url());
  EXPECT_EQ(client.stream_subjects("CDC"), std::vector<std::string>{"shop.>"});
  EXPECT_TRUE(client.stream_file_storage("CDC"));
  const std::vector<StoredMessage> messages = client.messages("CDC");
  // 2 + 1 inserts, an update, a delete, a message, a truncate to each table.
  ASSERT_EQ(messages.size(), 8u);
  const std::vector<std::string> subjects = {"shop.public.a", "shop.public.a", "shop.public.b",
                                             "shop.public.a", "shop.public.b", "shop._message",
                                             "shop.public.a", "shop.public.b"};
  for (size_t i = 0; i < messages.size(); ++i) {
    const StoredMessage& m = messages[i];
    EXPECT_EQ(m.subject, subjects[i]) << i;
    // The truncate's line goes to both tables; the rest one line each.
    const std::string& line = lines[std::min<size_t>(i, 6)];
    EXPECT_EQ(m.data, line) << i;
    const Json parsed = Json::parse(line);
    const std::string key =
        fmt::format("{}:{}", parsed["commit_lsn"].get<std::string>(), parsed["seq"].get<int>());
    EXPECT_EQ(m.id, i == 7 ? key + ":1" : key) << i;
  }
  EXPECT_EQ(Json::parse(messages[5].data)["prefix"], "audit");
  EXPECT_EQ(Json::parse(messages[6].data)["op"], "truncate");
  // Confirmed: the end of the last transaction, once its PubAcks came.
  EXPECT_GE(confirmed_flush_lsn(slot_),
            lsn_value(Json::parse(lines[6])["commit_lsn"].get<std::string>()));

  // Again from the slot's start on a fresh slot: every message a duplicate,
  // nothing new in the stream, and the run confirms all the same.
  const std::string again_slot = unique_name("again");
  execute("SELECT pg_create_logical_replication_slot('" + again_slot + "', 'pgoutput')");
  execute("INSERT INTO a VALUES (3, 'three')");
  const std::string end2 = current_wal_lsn();
  std::vector<std::string> again =
      nats_args(server.url(), "CDC", {"--topic-prefix", "shop", "--end-lsn", end2});
  std::ranges::replace(again, slot_, again_slot);
  ASSERT_TRUE(run_vil_cdc(again).exited(0));
  // The first slot, resumed: only the new row.
  const ProcessResult r2 =
      run_vil_cdc(nats_args(server.url(), "CDC", {"--topic-prefix", "shop", "--end-lsn", end2}));
  ASSERT_TRUE(r2.exited(0)) << r2.describe();
  const std::vector<StoredMessage> after = client.messages("CDC");
  ASSERT_EQ(after.size(), 9u);
  EXPECT_EQ(Json::parse(after[8].data)["after"], Json::parse(R"({"id":3,"v":"three"})"));
  EXPECT_GE(confirmed_flush_lsn(slot_),
            lsn_value(Json::parse(after[8].data)["commit_lsn"].get<std::string>()));
}

TEST_F(CliNatsSink, AnExistingStreamIsUsedAndOneThatDoesNotTakeTheSubjectsIsRefused) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  make_stream("t");
  execute("INSERT INTO t VALUES (1, 'x')");
  const std::string end = current_wal_lsn();
  NatsTestServer server;
  NatsTestClient client(server.url());
  // (Not ">": a stream must not take JetStream's own API subjects.)
  client.create_stream("WIDE", {"before.>", slot_ + ".>"});
  client.create_stream("OTHER", {"elsewhere.>"});
  client.publish("before.x", "{}", "before-1");

  // The default prefix: the slot's name.
  const ProcessResult r = run_vil_cdc(nats_args(server.url(), "WIDE", {"--end-lsn", end}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(client.stream_subjects("WIDE"), (std::vector<std::string>{"before.>", slot_ + ".>"}));
  const std::vector<StoredMessage> messages = client.messages("WIDE");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].subject, "before.x");
  EXPECT_EQ(messages[1].subject, slot_ + ".public.t");

  const ProcessResult refused = run_vil_cdc(nats_args(server.url(), "OTHER", {"--end-lsn", end}));
  expect_one_line_error(refused, 3,
                        {server.url(), "stream \"OTHER\"", "elsewhere.>", slot_ + ".>"});
  EXPECT_EQ(client.message_count("OTHER"), 0u);
}

TEST_F(CliNatsSink, TheYamlOutputKeysAndADebeziumTruncateAsOneLinePerTable) {
  execute("CREATE TABLE a (id int PRIMARY KEY)");
  execute("CREATE TABLE b (id int PRIMARY KEY)");
  make_stream();
  execute("INSERT INTO a VALUES (1)");
  execute("TRUNCATE a, b");
  const std::string end = current_wal_lsn();
  NatsTestServer server;
  TempDir dir;
  write_text_file(dir / "vil.yaml",
                  fmt::format("cdc:\n  conn_string: \"{}\"\n  slot_name: \"{}\"\n"
                              "  publication: \"{}\"\noutput:\n  sink: nats\n"
                              "  nats_url: \"{}\"\n  nats_stream: FROMYAML\n"
                              "  topic_prefix: yaml.cdc\n  format: debezium\n"
                              "  end_lsn: \"{}\"\n  quiet: true\n",
                              conninfo(), slot_, publication_, server.url(), end));
  const ProcessResult r = run_vil_cdc({"stream", "--config", (dir / "vil.yaml").string()});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  NatsTestClient client(server.url());
  EXPECT_EQ(client.stream_subjects("FROMYAML"), std::vector<std::string>{"yaml.cdc.>"});
  const std::vector<StoredMessage> messages = client.messages("FROMYAML");
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].subject, "yaml.cdc.public.a");
  EXPECT_EQ(Json::parse(messages[0].data)["op"], "c");
  // Debezium writes a truncate as one "t" event per table: each to its own.
  EXPECT_EQ(messages[1].subject, "yaml.cdc.public.a");
  EXPECT_EQ(messages[2].subject, "yaml.cdc.public.b");
  EXPECT_EQ(Json::parse(messages[1].data)["source"]["table"], "a");
  EXPECT_EQ(Json::parse(messages[2].data)["source"]["table"], "b");
  EXPECT_EQ(messages[2].id, messages[1].id + ":1");
}

TEST_F(CliNatsSink, TheServerStoppedAndStartedMidStreamLosesNothingAndDuplicatesNothing) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  make_stream("t");
  NatsTestServer server;
  ChildProcess child(vil_cdc_path(), nats_args(server.url(), "CDC", {"--topic-prefix", "p"}));
  NatsTestClient client(server.url());
  constexpr int kTransactions = 1500, kRows = 3;
  {
    BackgroundWriter writer(conninfo(), kTransactions, insert_rows("t", kRows), 1ms);
    ASSERT_TRUE(wait_until([&] { return client.message_count("CDC") >= 200; }, &child))
        << child.wait(1ms).describe();
    server.stop();
    EXPECT_LT(writer.written(), kTransactions) << "the server should stop mid-stream";
    std::this_thread::sleep_for(700ms);  // changes come and wait meanwhile
    server.start();
    ASSERT_TRUE(writer.join());
  }
  NatsTestClient again(server.url());
  ASSERT_TRUE(wait_until(
      [&] { return again.message_count("CDC") >= static_cast<uint64_t>(kTransactions * kRows); },
      &child))
      << again.message_count("CDC") << " messages; " << child.wait(1ms).describe();
  const std::vector<StoredMessage> messages = again.messages("CDC");
  ASSERT_FALSE(messages.empty());
  // The last transaction's commit gets confirmed, the PubAcks all in.
  const uint64_t last_commit =
      lsn_value(Json::parse(messages.back().data)["commit_lsn"].get<std::string>());
  EXPECT_TRUE(wait_until([&] { return confirmed_flush_lsn(slot_) >= last_commit; }, &child))
      << child.wait(1ms).describe();
  child.send_signal(SIGTERM);
  const ProcessResult r = child.wait(kRunDeadline);
  EXPECT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(messages.size(), static_cast<size_t>(kTransactions * kRows));
  expect_row_messages_in_commit_order(messages, "p", "t", kTransactions * kRows);
  EXPECT_EQ(again.message_count("CDC"), static_cast<uint64_t>(kTransactions * kRows));
}

TEST_F(CliNatsSink, NothingIsConfirmedWhileTheServerIsDownAndAllOnceItIsBack) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  make_stream("t");
  NatsTestServer server;
  ChildProcess child(vil_cdc_path(), nats_args(server.url(), "CDC", {"--topic-prefix", "p"}));
  execute("INSERT INTO t VALUES (1, 'before')");
  const uint64_t first_end = lsn_value(current_wal_lsn());
  ASSERT_TRUE(wait_until([&] { return confirmed_flush_lsn(slot_) >= first_end; }, &child))
      << child.wait(1ms).describe();
  server.stop();
  execute("INSERT INTO t VALUES (2, 'while down')");
  const uint64_t second_end = lsn_value(current_wal_lsn());
  // Several status intervals: the change waits, unconfirmed.
  std::this_thread::sleep_for(1500ms);
  EXPECT_LT(confirmed_flush_lsn(slot_), second_end);
  ASSERT_FALSE(child.finished()) << child.wait(1ms).describe();
  server.start();
  ASSERT_TRUE(wait_until([&] { return confirmed_flush_lsn(slot_) >= second_end; }, &child))
      << child.wait(1ms).describe();
  child.send_signal(SIGTERM);
  EXPECT_TRUE(child.wait(kRunDeadline).exited(0));
  NatsTestClient again(server.url());
  const std::vector<StoredMessage> messages = again.messages("CDC");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(Json::parse(messages[1].data)["after"]["v"], "while down");
}

TEST_F(CliNatsSink, TwelveKillsDuringFourThousandTransactionsLeaveEveryChangeOnceInTheStream) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  make_stream("t");
  NatsTestServer server;
  NatsTestClient client(server.url());
  constexpr int kTransactions = 4000, kRows = 3, kKills = 12;
  const std::vector<std::string> command = nats_args(server.url(), "CDC", {"--topic-prefix", "k"});
  {
    // About 10 s of commits, so that the kills fall among them.
    BackgroundWriter writer(conninfo(), kTransactions, insert_rows("t", kRows), 2ms);
    int kills_while_writing = 0;
    for (int kill = 0; kill < kKills; ++kill) {
      // The killed run's walsender lets go of the slot first.
      ASSERT_TRUE(wait_until([&] { return !slot_active(slot_); }, nullptr, 30s));
      const uint64_t before = client.message_count("CDC");
      ChildProcess child(vil_cdc_path(), command);
      // Killed once this run has published something (or a while passed).
      (void)wait_until([&] { return client.message_count("CDC") > before + 50; }, &child, 3s);
      std::this_thread::sleep_for(std::chrono::milliseconds(20 * (kill % 5)));
      ASSERT_FALSE(child.finished()) << child.wait(1ms).describe();
      child.send_signal(SIGKILL);
      (void)child.wait(kRunDeadline);
      if (writer.written() < kTransactions) ++kills_while_writing;
    }
    // Most kills came while transactions were being committed.
    EXPECT_GE(kills_while_writing, kKills / 2);
    ASSERT_TRUE(writer.join());
    EXPECT_EQ(writer.written(), kTransactions);
  }
  // The last run catches up to the writer's end, and ends there.
  ASSERT_TRUE(wait_until([&] { return !slot_active(slot_); }, nullptr, 30s));
  std::vector<std::string> last = command;
  last.insert(last.end(), {"--end-lsn", current_wal_lsn()});
  const ProcessResult r = run_vil_cdc(last);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const std::vector<StoredMessage> messages = client.messages("CDC");
  EXPECT_EQ(messages.size(), static_cast<size_t>(kTransactions * kRows));
  expect_row_messages_in_commit_order(messages, "k", "t", kTransactions * kRows);
}

TEST_F(CliNatsSink, AStreamDeletedOrReplacedMidRunIsExitFiveNamingIt) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream("t");
  NatsTestServer server;
  NatsTestClient client(server.url());
  const std::vector<std::string> args = nats_args(server.url(), "CDC", {"--topic-prefix", "p"});

  // Deleted: JetStream has nobody to answer for p.>, and the sink, asking,
  // learns that the stream is gone.
  {
    ChildProcess child(vil_cdc_path(), args);
    execute("INSERT INTO t VALUES (1)");
    ASSERT_TRUE(wait_until([&] { return client.message_count("CDC") == 1; }, &child))
        << child.wait(1ms).describe();
    client.delete_stream("CDC");
    execute("INSERT INTO t VALUES (2)");
    const ProcessResult r = child.wait(kRunDeadline);
    expect_one_line_error(r, 5,
                          {server.url() + " subject p.public.t", "stream \"CDC\" does not exist"});
  }
  // Replaced by another stream on the same subjects: JetStream refuses what
  // names the stream it expected.
  ASSERT_TRUE(wait_until([&] { return !slot_active(slot_); }, nullptr, 30s));
  client.create_stream("CDC", {"p.>"});
  {
    ChildProcess child(vil_cdc_path(), args);
    ASSERT_TRUE(wait_until([&] { return client.message_count("CDC") == 1; }, &child))
        << child.wait(1ms).describe();
    client.delete_stream("CDC");
    client.create_stream("OTHER", {"p.>"});
    execute("INSERT INTO t VALUES (3)");
    const ProcessResult r = child.wait(kRunDeadline);
    expect_one_line_error(r, 5, {server.url() + " subject p.public.t", "JetStream refused it"});
    EXPECT_EQ(client.message_count("OTHER"), 0u);
  }
}

TEST_F(CliNatsSink, AMessageOverMaxPayloadIsExitFiveNamingTableSizeAndLimit) {
  execute("CREATE TABLE big (id int PRIMARY KEY, v text)");
  make_stream("big");
  const uint64_t slot_start = confirmed_flush_lsn(slot_);
  execute("INSERT INTO big VALUES (1, 'small')");
  const uint64_t before_big = lsn_value(current_wal_lsn());
  execute("INSERT INTO big VALUES (2, repeat('x', 3000))");
  const std::string end = current_wal_lsn();
  NatsTestServer server({.user = "", .password = "", .config_text = "max_payload: 2048\n"});
  const ProcessResult r =
      run_vil_cdc(nats_args(server.url(), "CDC", {"--topic-prefix", "p", "--end-lsn", end}));
  expect_one_line_error(r, 5,
                        {server.url() + " subject p.public.big",
                         "exceeds the server's max_payload of 2048 bytes", "message of 3"});
  NatsTestClient client(server.url());
  const std::vector<StoredMessage> messages = client.messages("CDC");
  ASSERT_EQ(messages.size(), 1u);
  const uint64_t confirmed = confirmed_flush_lsn(slot_);
  // (The small transaction may or may not be confirmed yet when the run
  // ends: the trigger confirms at its status interval.)
  // At most the end of the small one: the refused transaction comes again.
  EXPECT_LE(confirmed, before_big);
  EXPECT_GE(confirmed, slot_start);
}

TEST_F(CliNatsSink, AServerNotThereOrARefusedLoginIsExitThreeWithoutThePassword) {
  make_stream();
  // A port nobody listens on: a server stopped.
  int port = 0;
  {
    NatsTestServer gone;
    port = gone.port();
  }
  const std::string nowhere = fmt::format("nats://vil:s3cret-pass@127.0.0.1:{}", port);
  const ProcessResult r = run_vil_cdc(nats_args(nowhere, "CDC", {}));
  expect_one_line_error(r, 3,
                        {fmt::format("cannot connect to nats://vil:********@127.0.0.1:{}", port)});
  EXPECT_EQ(r.err.find("s3cret-pass"), std::string::npos);

  NatsTestServer locked({.user = "vil", .password = "right-pass", .config_text = ""});
  const std::string wrong = fmt::format("nats://vil:wrong-pass@127.0.0.1:{}", locked.port());
  const ProcessResult refused = run_vil_cdc(nats_args(wrong, "CDC", {}));
  expect_one_line_error(
      refused, 3,
      {fmt::format("cannot connect to nats://vil:********@127.0.0.1:{}", locked.port())});
  EXPECT_NE(refused.err.find("Authorization Violation"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find("wrong-pass"), std::string::npos);
  EXPECT_EQ(refused.err.find("conn.c"), std::string::npos) << refused.err;

  // The right one: it streams, and says nothing of the password either.
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  execute("INSERT INTO t VALUES (1)");
  const std::string end = current_wal_lsn();
  const std::string right = fmt::format("nats://vil:right-pass@127.0.0.1:{}", locked.port());
  std::vector<std::string> args = nats_args(right, "CDC", {"--end-lsn", end});
  args.erase(std::ranges::find(args, "--quiet"));
  const ProcessResult ok = run_vil_cdc(args);
  ASSERT_TRUE(ok.exited(0)) << ok.describe();
  EXPECT_EQ(ok.err.find("right-pass"), std::string::npos) << ok.err;

  expect_one_line_error(run_vil_cdc(stream_args({"--sink", "jetstream"})), 2,
                        {"--sink: 'jetstream' is not one of file, http, kafka, nats"});
  expect_one_line_error(run_vil_cdc(stream_args({"--sink", "nats"})), 2,
                        {"--sink nats needs --nats-url"});
  expect_one_line_error(run_vil_cdc(stream_args({"--sink", "nats", "--nats-url", right})), 2,
                        {"--sink nats needs --nats-stream"});
  expect_one_line_error(run_vil_cdc(nats_args("http://127.0.0.1:1", "CDC", {})), 2,
                        {"--nats-url: must start with nats://"});
  expect_one_line_error(run_vil_cdc(nats_args(right, "CDC", {"--output", "x.jsonl"})), 2,
                        {"the file sink's options"});
  expect_one_line_error(run_vil_cdc(nats_args(right, "CDC", {"--topic-prefix", "a..b"})), 2,
                        {"--topic-prefix"});
}

}  // namespace
}  // namespace vil::testing::cli
