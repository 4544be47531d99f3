// `vil-cdc stream --sink kafka` against librdkafka's mock cluster, read back
// with a librdkafka consumer: one topic per table, each message with the
// row's key, its line as the value and the vil.commit_lsn / vil.seq
// headers, a tombstone after a delete; nothing confirmed to the server before
// the brokers acknowledged it; a broker that goes away and comes back; the
// kill -9 loop (every change at least once, duplicates only of what was not
// confirmed); brokers not there at the start, a message too large, a
// property that is refused, a password never shown.

#include <csignal>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"
#include "cli/kafka_cluster.hpp"

namespace vil::testing::cli {
namespace {

class CliKafkaSink : public CliTest {
 protected:
  std::vector<std::string> kafka_args(std::initializer_list<std::string> more) const {
    std::vector<std::string> args =
        stream_args({"--sink", "kafka", "--kafka-brokers", kafka_.bootstraps(), "--topic-prefix",
                     "vil", "--reconnect-initial-ms", "20"});
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  KafkaCluster kafka_;
};

// The records of a topic by key, each key's in the order its partition has
// them (a key always lands in the same partition).
std::map<std::string, std::vector<KafkaRecord>> by_key(const std::vector<KafkaRecord>& records) {
  std::map<std::string, std::vector<KafkaRecord>> keyed;
  for (const KafkaRecord& record : records) keyed[record.key.value_or("(null)")].push_back(record);
  return keyed;
}

std::string header_key(const KafkaRecord& record) {
  const auto lsn = record.headers.find("vil.commit_lsn");
  const auto seq = record.headers.find("vil.seq");
  if (lsn == record.headers.end() || seq == record.headers.end()) return "(no headers)";
  return lsn->second + ":" + seq->second;
}

std::string line_key(const Json& line) {
  return fmt::format("{}:{}", line["commit_lsn"].get<std::string>(), line["seq"].get<int>());
}

TEST_F(CliKafkaSink, EachTableHasItsTopicWithKeysHeadersTombstonesAndTheFileSinksLines) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  execute("CREATE TABLE u (k text PRIMARY KEY, n int)");
  make_stream("t, u");
  // A second slot at the same place: the file sink's lines are the truth.
  const std::string file_slot = slot_ + "_file";
  execute(fmt::format("SELECT pg_create_logical_replication_slot('{}', 'pgoutput')", file_slot));
  execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
  execute("UPDATE t SET v = 'a2' WHERE id = 1");
  execute("DELETE FROM t WHERE id = 2");
  execute(
      "BEGIN; INSERT INTO u VALUES ('x', 1); "
      "SELECT pg_logical_emit_message(true, 'vil.test', 'hello'); COMMIT");
  execute("UPDATE u SET k = 'y' WHERE k = 'x'");
  execute("TRUNCATE t, u");
  const std::string end = current_wal_lsn();

  const ProcessResult r = run_vil_cdc(kafka_args({"--end-lsn", end}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.out, "");
  EXPECT_GE(confirmed_flush_lsn(slot_), lsn_value(end) - 1024) << "confirmed after the acks";
  TempDir dir;
  std::vector<std::string> file_args = stream_args({"--end-lsn", end});
  for (size_t i = 0; i + 1 < file_args.size(); ++i) {
    if (file_args[i] == "--slot") file_args[i + 1] = file_slot;
  }
  const ProcessResult file = run_vil_cdc(file_args);
  ASSERT_TRUE(file.exited(0)) << file.describe();
  const auto lines = lines_of(file.out);
  ASSERT_EQ(lines.size(), 8u) << file.out;

  EXPECT_EQ(kafka_.topics("vil."),
            (std::vector<std::string>{"vil._message", "vil.public.t", "vil.public.u"}))
      << "topics, sorted";
  const auto t = by_key(kafka_.read_topic("vil.public.t"));
  const auto u = by_key(kafka_.read_topic("vil.public.u"));
  const auto messages = kafka_.read_topic("vil._message");

  // t: key {"id":1}: insert, update; {"id":2}: insert, delete, tombstone;
  // the truncate has no key.
  ASSERT_EQ(t.size(), 3u);
  ASSERT_EQ(t.count(R"({"id":1})"), 1u);
  ASSERT_EQ(t.count(R"({"id":2})"), 1u);
  ASSERT_EQ(t.count("(null)"), 1u);
  const auto& one = t.at(R"({"id":1})");
  const auto& two = t.at(R"({"id":2})");
  const auto& truncate_t = t.at("(null)");
  ASSERT_EQ(one.size(), 2u);
  ASSERT_EQ(two.size(), 3u);
  ASSERT_EQ(truncate_t.size(), 1u);
  EXPECT_EQ(one[0].value, lines[0]);
  EXPECT_EQ(two[0].value, lines[1]);
  EXPECT_EQ(one[1].value, lines[2]);
  EXPECT_EQ(two[1].value, lines[3]);
  EXPECT_FALSE(two[2].value.has_value()) << "a tombstone follows the delete";
  EXPECT_EQ(header_key(two[2]), header_key(two[1]));
  EXPECT_EQ(truncate_t[0].value, lines[7]);
  // u: {"k":"x"} inserted, then the key changed to {"k":"y"}: the update
  // goes under its new key.
  ASSERT_EQ(u.size(), 3u);
  ASSERT_EQ(u.count(R"({"k":"x"})"), 1u);
  ASSERT_EQ(u.count(R"({"k":"y"})"), 1u);
  EXPECT_EQ(u.at(R"({"k":"x"})").at(0).value, lines[4]);
  EXPECT_EQ(u.at(R"({"k":"y"})").at(0).value, lines[6]);
  EXPECT_EQ(u.at("(null)").at(0).value, lines[7]) << "the truncate goes to both tables";
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].value, lines[5]);

  // Every message carries the key of its line.
  const auto check_headers = [&](const std::vector<KafkaRecord>& records) {
    for (const KafkaRecord& record : records) {
      if (record.value) {
        EXPECT_EQ(header_key(record), line_key(Json::parse(*record.value)));
      }
    }
  };
  for (const auto& [key, records] : t) check_headers(records);
  for (const auto& [key, records] : u) check_headers(records);
  check_headers(messages);
}

TEST_F(CliKafkaSink, WithoutTombstonesADeleteIsOneMessage) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream("t");
  execute("INSERT INTO t VALUES (1)");
  execute("DELETE FROM t");
  const ProcessResult r =
      run_vil_cdc(kafka_args({"--end-lsn", current_wal_lsn(), "--no-tombstones"}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto records = kafka_.read_topic("vil.public.t");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(Json::parse(records[0].value.value_or("{}"))["op"], "insert");
  EXPECT_EQ(Json::parse(records[1].value.value_or("{}"))["op"], "delete");
}

TEST_F(CliKafkaSink, DebeziumSchemasWrapValueAndKeyAsKafkaConnectReadsThem) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  make_stream("t");
  execute("INSERT INTO t VALUES (7, 'seven')");
  const ProcessResult r = run_vil_cdc(
      kafka_args({"--end-lsn", current_wal_lsn(), "--format", "debezium", "--debezium-schemas"}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto records = kafka_.read_topic("vil.public.t");
  ASSERT_EQ(records.size(), 1u);
  const Json value = Json::parse(records[0].value.value_or("{}"));
  const Json key = Json::parse(records[0].key.value_or("{}"));
  EXPECT_EQ(value["schema"]["type"], "struct");
  EXPECT_EQ(value["payload"]["op"], "c");
  EXPECT_EQ(value["payload"]["after"], Json::parse(R"({"id":7,"v":"seven"})"));
  EXPECT_EQ(key["payload"], Json::parse(R"({"id":7})"));
  EXPECT_EQ(key["schema"]["fields"][0]["field"], "id");
  EXPECT_EQ(key["schema"]["fields"][0]["type"], "int32");
}

// The ids of the rows whose insert is in `records`, each as often as it is.
std::map<int, int> inserted_ids(const std::vector<KafkaRecord>& records) {
  std::map<int, int> ids;
  for (const KafkaRecord& record : records) {
    const Json line = Json::parse(record.value.value_or("{}"));
    if (line["op"] == "insert") ++ids[line["after"]["id"].get<int>()];
    EXPECT_EQ(record.key, fmt::format(R"({{"id":{}}})", line["after"]["id"].get<int>()));
    EXPECT_EQ(header_key(record), line_key(line));
  }
  return ids;
}

TEST_F(CliKafkaSink, ABrokerThatGoesAwayHoldsConfirmationUntilItIsBack) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream("t");
  // Four partitions: the mock cluster keeps only the last few megabytes of
  // a partition.
  kafka_.create_topic("vil.public.t", 4);
  ChildProcess child(vil_cdc_path(), kafka_args({"--status-interval-ms", "100"}));
  execute("INSERT INTO t SELECT g FROM generate_series(1, 100) g");
  ASSERT_TRUE(wait_until([&] { return kafka_.read_topic("vil.public.t").size() == 100; }, &child))
      << child.wait(1ms).describe();
  const std::string before_down = current_wal_lsn();
  ASSERT_TRUE(wait_until(
      [&] { return confirmed_flush_lsn(slot_) >= lsn_value(before_down) - 1024; }, &child));

  kafka_.set_down(1);
  // More than the 10,000 changes allowed in flight: the rest waits in the
  // server, and memory stays bounded.
  execute("INSERT INTO t SELECT g FROM generate_series(101, 20100) g");
  const std::string written = current_wal_lsn();
  std::this_thread::sleep_for(1500ms);
  EXPECT_LT(confirmed_flush_lsn(slot_), lsn_value(written) - 64)
      << "nothing the brokers did not take is confirmed";
  EXPECT_FALSE(child.finished()) << child.wait(1ms).describe();
  const uint64_t rss_kb = resident_kb(child.pid());
  EXPECT_GT(rss_kb, 0u);
  EXPECT_LT(rss_kb, 128u * 1024) << "kB resident while the broker is away";

  kafka_.set_up(1);
  ASSERT_TRUE(
      wait_until([&] { return confirmed_flush_lsn(slot_) >= lsn_value(written) - 64; }, &child))
      << child.wait(1ms).describe();
  child.send_signal(SIGTERM);
  const ProcessResult r = child.wait(kRunDeadline);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto ids = inserted_ids(kafka_.read_topic("vil.public.t"));
  ASSERT_EQ(ids.size(), 20100u);
  for (const auto& [id, times] : ids) EXPECT_EQ(times, 1) << "row " << id;
}

// 12 kills of vil-cdc while a writer commits 4,000 transactions, each time
// the same command again: every row at least once, each duplicate exactly
// the message it repeats (key, value, headers).
TEST_F(CliKafkaSink, TwelveKillsDuring4000TransactionsLoseNothing) {
  constexpr int kTransactions = 4000;
  constexpr int kKills = 12;
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  make_stream("t");
  kafka_.create_topic("vil.public.t", 3);
  BackgroundWriter writer(
      conninfo(), kTransactions,
      [](int i) { return fmt::format("INSERT INTO t VALUES ({0}, 'row {0}')", i); }, 1ms);
  kill_repeatedly(kafka_args({"--status-interval-ms", "50"}), kKills, 12345);
  const int written_during_kills = writer.written();
  ASSERT_TRUE(writer.join());
  EXPECT_LT(written_during_kills, kTransactions) << "the kills came after the writer ended";
  const ProcessResult last = run_vil_cdc(kafka_args({"--end-lsn", current_wal_lsn()}), 120s);
  ASSERT_TRUE(last.exited(0)) << last.describe();

  const auto records = kafka_.read_topic("vil.public.t");
  const auto ids = inserted_ids(records);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kTransactions));
  EXPECT_EQ(ids.begin()->first, 1);
  EXPECT_EQ(ids.rbegin()->first, kTransactions);
  size_t duplicates = 0;
  for (const auto& [id, times] : ids) duplicates += static_cast<size_t>(times - 1);
  EXPECT_EQ(records.size(), kTransactions + duplicates);
  // Per partition, commit order once the repeats are left out.
  std::map<int32_t, uint64_t> last_lsn;
  std::set<std::string> seen;
  for (const KafkaRecord& record : records) {
    if (!seen.insert(header_key(record)).second) continue;
    const uint64_t lsn = lsn_value(record.headers.at("vil.commit_lsn"));
    EXPECT_GE(lsn, last_lsn[record.partition]) << "partition " << record.partition;
    last_lsn[record.partition] = lsn;
  }
  RecordProperty("duplicates", static_cast<int>(duplicates));
  std::printf("kafka kill loop: %zu records, %zu duplicates\n", records.size(), duplicates);
}

TEST_F(CliKafkaSink, AMessageLargerThanTheLimitEndsTheRunNamingTableSizeAndLimit) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  make_stream("t");
  const uint64_t before = lsn_value(current_wal_lsn());
  execute("INSERT INTO t VALUES (1, repeat('x', 5000))");
  const std::string end = current_wal_lsn();
  const ProcessResult r =
      run_vil_cdc(kafka_args({"--end-lsn", end, "--kafka-property", "message.max.bytes=2000"}));
  expect_one_line_error(
      r, 5, {"Kafka topic vil.public.t", "bytes is larger than message.max.bytes (2000 bytes)"});
  const uint64_t confirmed = confirmed_flush_lsn(slot_);
  EXPECT_GE(confirmed, before);
  EXPECT_LT(confirmed, lsn_value(end)) << "the refused transaction comes again";
}

TEST_F(CliKafkaSink, BrokersNotThereBadPropertiesAndPasswordsAreClearErrors) {
  make_stream();
  const ProcessResult away = run_vil_cdc(stream_args(
      {"--sink", "kafka", "--kafka-brokers", "127.0.0.1:1", "--kafka-property",
       "sasl.password=s3cret-pass", "--kafka-property", "ssl.key.password=s3cret-pass"}));
  expect_one_line_error(away, 3, {"cannot reach Kafka brokers 127.0.0.1:1"});
  EXPECT_EQ(away.err.find("s3cret-pass"), std::string::npos);

  expect_one_line_error(run_vil_cdc(kafka_args({"--kafka-property", "no.such.thing=1"})), 2,
                        {"Kafka property no.such.thing"});
  const ProcessResult bad_value =
      run_vil_cdc(kafka_args({"--kafka-property", "sasl.oauthbearer.config=s3cret-pass",
                              "--kafka-property", "acks=most"}));
  expect_one_line_error(bad_value, 2, {"Kafka property acks"});
  EXPECT_EQ(bad_value.err.find("s3cret-pass"), std::string::npos);
  expect_one_line_error(run_vil_cdc(kafka_args({"--kafka-property", "=s3cret-pass"})), 2,
                        {"--kafka-property: '' is not NAME=VALUE"});
  expect_one_line_error(run_vil_cdc(stream_args({"--sink", "kafka"})), 2,
                        {"--sink kafka needs --kafka-brokers"});
  expect_one_line_error(run_vil_cdc(stream_args({"--sink", "kafka", "--kafka-brokers",
                                                 kafka_.bootstraps(), "--topic-prefix", "a..b"})),
                        2, {"--topic-prefix: topic prefix 'a..b'"});
  expect_one_line_error(run_vil_cdc(kafka_args({"--debezium-schemas"})), 2,
                        {"--debezium-schemas: needs --format debezium"});
  expect_one_line_error(run_vil_cdc(stream_args({"--kafka-property", "acks=1"})), 2,
                        {"--kafka-property: only with --sink kafka"});
}

}  // namespace
}  // namespace vil::testing::cli
