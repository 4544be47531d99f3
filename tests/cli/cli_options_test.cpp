// `vil-cdc stream` settings and failures end to end: the YAML file and its
// merge with flags, exit codes with one line on stderr naming the cause, and
// a password that never shows up in any output or log.

#include <signal.h>

#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"

namespace vil::testing::cli {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitConnection = 3;
constexpr int kExitSlot = 4;

class CliConfig : public CliTest {
 protected:
  // A YAML file in dir_ with `text`, returned as a path.
  std::string config_file(std::string_view name, std::string_view text) {
    const auto path = dir_ / name;
    write_text_file(path, text);
    return path.string();
  }
  std::string cdc_block(std::string_view slot) const {
    return fmt::format("cdc:\n  conn_string: \"{}\"\n  slot_name: \"{}\"\n  publication: \"{}\"\n",
                       conninfo(), slot, publication_);
  }
  TempDir dir_;
};

TEST_F(CliConfig, FileWithCdcAndOutputBlocksAndFlagsOverridingIt) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  execute("INSERT INTO t VALUES (1)");
  const std::string first_end = current_wal_lsn();
  execute("INSERT INTO t VALUES (2)");
  const std::string second_end = current_wal_lsn();

  const std::string file = config_file(
      "vil.yaml",
      cdc_block(slot_) + "  status_interval_ms: 500\n" +
          fmt::format("output:\n  format: jsonl\n  end_lsn: \"{}\"\n  quiet: true\n", first_end));
  ProcessResult r = run_vil_cdc({"stream", "--config", file});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.err, "");
  auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_EQ(lines[0]["op"], "insert");
  EXPECT_EQ(lines[0]["after"]["id"], 1);

  // The file names a slot that does not exist, the old end and JSON lines;
  // the flags win on all three.
  const std::string other = config_file(
      "other.yaml",
      cdc_block("no_such_slot") +
          fmt::format("output:\n  format: jsonl\n  end_lsn: \"{}\"\n  quiet: true\n", first_end));
  r = run_vil_cdc({"stream", "--config", other, "--slot", slot_, "--end-lsn", second_end,
                   "--format", "debezium"});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_EQ(lines[0]["op"], "c");
  EXPECT_EQ(lines[0]["after"]["id"], 2);
}

TEST_F(CliConfig, BadFilesExitTwoNamingTheField) {
  make_stream();
  struct Case {
    const char* name;
    std::string text;
    std::vector<std::string_view> needles;
  };
  const std::string good = cdc_block(slot_);
  const std::vector<Case> cases = {
      {"bad_yaml", "cdc:\n  slot_name: [unclosed\n", {"bad_yaml.yaml", "YAML"}},
      {"tab_yaml", "cdc:\n\tslot_name: x\n", {"tab_yaml.yaml"}},
      {"no_cdc", "output:\n  format: jsonl\n", {"cdc"}},
      {"missing_slot",
       fmt::format("cdc:\n  conn_string: \"{}\"\n  publication: \"{}\"\n", conninfo(),
                   publication_),
       {"cdc.slot_name", "--slot"}},
      {"missing_conn",
       fmt::format("cdc:\n  slot_name: {}\n  publication: {}\n", slot_, publication_),
       {"cdc.conn_string", "--conn"}},
      {"unknown_key", good + "  slot_nmae: x\n", {"cdc.slot_nmae"}},
      {"bad_value", good + "  status_interval_ms: fast\n", {"cdc.status_interval_ms", "fast"}},
      {"unknown_output_key", good + "output:\n  colour: red\n", {"output.colour"}},
      {"bad_output_format", good + "output:\n  format: xml\n", {"output.format", "xml"}},
      {"bad_output_end_lsn", good + "output:\n  end_lsn: soon\n", {"output.end_lsn", "soon"}},
      {"zero_output_end_lsn", good + "output:\n  end_lsn: 0/0\n", {"output.end_lsn", "0/0"}},
      {"unknown_block", good + "outptu:\n  format: jsonl\n", {"outptu"}},
      // Valid YAML that names an option with a list: an error, not a crash.
      {"list_key", good + "  ? [a, b]\n  : 1\n", {"list_key.yaml", "cdc: every key"}},
      {"output_list_key", good + "output:\n  ? [a, b]\n  : 1\n", {"output: every key"}},
      {"create_publication_map",
       good + "  create_publication: {a: 1}\n",
       {"cdc.create_publication", "true or 'all' (every table), false"}},
      {"create_publication_empty",
       good + "  create_publication: []\n",
       {"cdc.create_publication", "names no table"}},
      {"zero_reconnect",
       good + "  reconnect_initial_ms: 0\n",
       {"cdc.reconnect_initial_ms", "positive"}},
      {"bad_slot_name",
       fmt::format("cdc:\n  conn_string: \"{}\"\n  slot_name: Bad-Slot\n  "
                   "publication: {}\n",
                   conninfo(), publication_),
       {"cdc.slot_name", "Bad-Slot"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = config_file(std::string(c.name) + ".yaml", c.text);
    const ProcessResult r = run_vil_cdc({"stream", "--config", file});
    EXPECT_TRUE(r.exited(kExitUsage)) << r.describe();
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(!r.err.empty() && r.err.find('\n') == r.err.size() - 1) << "one line on stderr:\n"
                                                                        << r.err;
    for (auto needle : c.needles) {
      EXPECT_NE(r.err.find(needle), std::string::npos) << "names " << needle << ":\n" << r.err;
      // Named once: the message is whole, and no caller adds the name again.
      if (needle.starts_with("cdc.") || needle.starts_with("output.")) {
        EXPECT_EQ(r.err.find(needle), r.err.rfind(needle)) << "named twice:\n" << r.err;
      }
    }
  }
  const ProcessResult missing =
      run_vil_cdc({"stream", "--config", (dir_ / "nowhere.yaml").string()});
  expect_one_line_error(missing, kExitUsage, {"nowhere.yaml"});
}

class CliErrors : public CliTest {};

TEST_F(CliErrors, UsageErrorsExitTwo) {
  make_stream();
  expect_one_line_error(run_vil_cdc({"stream", "--bogus"}), kExitUsage, {"--bogus"});
  expect_one_line_error(run_vil_cdc({"frobnicate"}), kExitUsage, {"frobnicate"});
  expect_one_line_error(run_vil_cdc({}), kExitUsage, {"subcommand"});
  expect_one_line_error(
      run_vil_cdc({"stream", "--conn", conninfo(), "--publication", publication_}), kExitUsage,
      {"--slot"});
  expect_one_line_error(run_vil_cdc({"stream", "--conn", conninfo(), "--slot", slot_}), kExitUsage,
                        {"--publication"});
  expect_one_line_error(run_vil_cdc(stream_args({"--end-lsn", "0/XYZ"})), kExitUsage,
                        {"--end-lsn", "0/XYZ"});
  expect_one_line_error(run_vil_cdc(stream_args({"--end-lsn", "12345"})), kExitUsage,
                        {"--end-lsn", "12345"});
  // 0/0 is no position: it must not mean "no end" and stream for ever.
  expect_one_line_error(run_vil_cdc(stream_args({"--end-lsn", "0/0"})), kExitUsage,
                        {"--end-lsn", "0/0"});
  expect_one_line_error(run_vil_cdc(stream_args({"--format", "xml"})), kExitUsage,
                        {"--format", "xml"});
  expect_one_line_error(run_vil_cdc(stream_args({"--log-format", "fancy"})), kExitUsage,
                        {"--log-format", "fancy"});
  expect_one_line_error(run_vil_cdc(stream_args({"--max-events", "many"})), kExitUsage,
                        {"--max-events"});
  expect_one_line_error(run_vil_cdc(stream_args({"--temporary-slot"})), kExitUsage,
                        {"--temporary-slot"});
  expect_one_line_error(run_vil_cdc(stream_args({"--protocol-version", "9"})), kExitUsage,
                        {"--protocol-version"});
  expect_one_line_error(run_vil_cdc({"stream", "--conn", conninfo(), "--slot", "Bad-Name",
                                     "--publication", publication_}),
                        kExitUsage, {"--slot", "Bad-Name"});
  // The field once, with its flag: "--slot (cdc.slot_name): is required".
  const ProcessResult no_slot =
      run_vil_cdc({"stream", "--conn", conninfo(), "--publication", publication_});
  expect_one_line_error(no_slot, kExitUsage, {"--slot (cdc.slot_name): is required"});
  EXPECT_EQ(no_slot.err.find("cdc.slot_name"), no_slot.err.rfind("cdc.slot_name")) << no_slot.err;
  // Periods are positive, and the longest wait is not below the first.
  for (const char* flag :
       {"--reconnect-initial-ms", "--reconnect-max-ms", "--status-interval-ms"}) {
    for (const char* value : {"0", "-5"}) {
      SCOPED_TRACE(std::string(flag) + " " + value);
      expect_one_line_error(run_vil_cdc(stream_args({flag, value})), kExitUsage,
                            {flag, "must be a positive number of milliseconds"});
    }
  }
  expect_one_line_error(
      run_vil_cdc(stream_args({"--reconnect-initial-ms", "1000", "--reconnect-max-ms", "500"})),
      kExitUsage, {"--reconnect-max-ms (cdc.reconnect_max_ms)", "must not be below"});
  expect_one_line_error(run_vil_cdc(stream_args({"--create-publication", " , "})), kExitUsage,
                        {"--create-publication", "names no table"});
  // One parser for --format and output.format: no aliases.
  expect_one_line_error(run_vil_cdc(stream_args({"--format", "json"})), kExitUsage,
                        {"--format", "'json' is not jsonl or debezium"});
}

// "a, b" names the tables a and b, on the command line as in the file; the
// YAML booleans mean every table (true) and no publication made (false).
TEST_F(CliConfig, CreatePublicationListsAreTrimmedAndBooleansAreUnderstood) {
  execute("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY)");
  auto tables_of = [&](const std::string& pub) {
    return query_value(
        "SELECT coalesce(string_agg(schemaname || '.' || tablename, ',' ORDER BY tablename), '') "
        "FROM pg_publication_tables WHERE pubname = '" +
        pub + "'");
  };
  const std::string flag_pub = unique_name("pub");
  ProcessResult r = run_vil_cdc({"stream", "--conn", conninfo(), "--slot", unique_name("slot"),
                                 "--publication", flag_pub, "--quiet", "--create-slot",
                                 "--create-publication", " a , b", "--end-lsn", current_wal_lsn()});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(tables_of(flag_pub), "public.a,public.b");

  const std::string yaml_pub = unique_name("pub");
  const std::string list_file = config_file(
      "list.yaml", fmt::format("cdc:\n  conn_string: \"{}\"\n  slot_name: {}\n  publication: {}\n"
                               "  create_slot: true\n  create_publication: ' a ,b '\n",
                               conninfo(), unique_name("slot"), yaml_pub));
  r = run_vil_cdc({"stream", "--config", list_file, "--quiet", "--end-lsn", current_wal_lsn()});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(tables_of(yaml_pub), "public.a,public.b");

  const std::string all_pub = unique_name("pub");
  const std::string true_file = config_file(
      "true.yaml", fmt::format("cdc:\n  conn_string: \"{}\"\n  slot_name: {}\n  publication: {}\n"
                               "  create_slot: true\n  create_publication: true\n",
                               conninfo(), unique_name("slot"), all_pub));
  r = run_vil_cdc({"stream", "--config", true_file, "--quiet", "--end-lsn", current_wal_lsn()});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(
      query_value("SELECT puballtables FROM pg_publication WHERE pubname = '" + all_pub + "'"),
      "t");

  const std::string none_pub = unique_name("pub");
  const std::string false_file = config_file(
      "false.yaml", fmt::format("cdc:\n  conn_string: \"{}\"\n  slot_name: {}\n  publication: {}\n"
                                "  create_slot: true\n  create_publication: false\n",
                                conninfo(), unique_name("slot"), none_pub));
  r = run_vil_cdc({"stream", "--config", false_file, "--quiet", "--end-lsn", current_wal_lsn()});
  expect_one_line_error(r, kExitSlot, {none_pub});
  EXPECT_EQ(query_value("SELECT count(*) FROM pg_publication WHERE pubname = '" + none_pub + "'"),
            "0");
}

// Every switch the file can turn on, a flag can turn off again.
TEST_F(CliConfig, NegatedFlagsTurnOffWhatTheFileTurnedOn) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  const std::string missing = unique_name("slot");
  const std::string file =
      config_file("on.yaml", cdc_block(missing) + "  create_slot: true\n  temporary_slot: true\n" +
                                 "output:\n  fsync: true\n  quiet: true\n");
  // --no-create-slot: the missing slot is not created, so it is not found.
  ProcessResult r = run_vil_cdc({"stream", "--config", file, "--no-create-slot",
                                 "--no-temporary-slot", "--end-lsn", current_wal_lsn()});
  expect_one_line_error(r, kExitSlot, {missing});
  EXPECT_FALSE(slot_exists(missing));
  // --no-temporary-slot: a slot created by the run outlives it.
  r = run_vil_cdc({"stream", "--config", file, "--no-temporary-slot", "--no-fsync", "--end-lsn",
                   current_wal_lsn()});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  ASSERT_TRUE(wait_until([&] { return !slot_active(missing); }, nullptr));
  EXPECT_EQ(
      query_value("SELECT temporary FROM pg_replication_slots WHERE slot_name = '" + missing + "'"),
      "f");
}

// The mq_log formats and drains the table documents: a file path defaults
// to json lines, compact is one short line per record, on stderr too.
TEST_F(CliConfig, LogFormatsInAFileAndOnStderr) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  execute("INSERT INTO t VALUES (1), (2)");
  const auto json_log = dir_ / "default.log";
  ProcessResult r =
      run_vil_cdc(stream_args({"--log", json_log.string(), "--end-lsn", current_wal_lsn()}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto records = parse_lines(read_text_file(json_log));
  ASSERT_EQ(records.size(), 2u) << read_text_file(json_log);
  for (const Json& record : records) {
    EXPECT_EQ(record["category"], "mq");
    EXPECT_EQ(record["op_type"], "publish");
  }

  execute("INSERT INTO t VALUES (3)");
  const auto compact_log = dir_ / "compact.log";
  r = run_vil_cdc(stream_args(
      {"--log", compact_log.string(), "--log-format", "compact", "--end-lsn", current_wal_lsn()}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto compact = lines_of(read_text_file(compact_log));
  ASSERT_EQ(compact.size(), 1u);
  const std::regex kCompact(
      "^[0-9]+ I mq publish b=[0-9a-f]{8} t=[0-9a-f]{8} g=[0-9a-f]{8} off=[0-9]+ .*");
  EXPECT_TRUE(std::regex_match(compact[0], kCompact)) << compact[0];

  execute("INSERT INTO t VALUES (4)");
  r = run_vil_cdc(
      stream_args({"--log", "stderr", "--log-format", "compact", "--end-lsn", current_wal_lsn()}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto on_stderr = lines_of(r.err);
  ASSERT_EQ(on_stderr.size(), 1u) << r.err;
  EXPECT_TRUE(std::regex_match(on_stderr[0], kCompact)) << on_stderr[0];
  EXPECT_EQ(lines_of(r.out).size(), 1u) << "stdout carries the changes only";
}

TEST_F(CliErrors, ConnectionFailuresExitThree) {
  make_stream();
  const std::string role = unique_name("cli_auth_role");
  cluster().create_role_with_password(role, "Right-Horse-Battery-Staple-81");
  const std::string wrong = conninfo(role) + " password=Wrong-Pw-Narwhal-4242";
  ProcessResult r = run_vil_cdc(
      {"stream", "--conn", wrong, "--slot", slot_, "--publication", publication_, "--quiet"});
  expect_one_line_error(r, kExitConnection, {"password authentication failed", role});
  EXPECT_EQ(r.err.find("Wrong-Pw-Narwhal-4242"), std::string::npos) << r.err;

  r = run_vil_cdc({"stream", "--conn", "host=127.0.0.1 port=1 dbname=x user=y", "--slot", slot_,
                   "--publication", publication_, "--quiet"});
  expect_one_line_error(r, kExitConnection, {"127.0.0.1", "port 1"});
}

TEST_F(CliErrors, MissingSlotOrPublicationExitsFourNamingIt) {
  make_stream();
  expect_one_line_error(run_vil_cdc({"stream", "--conn", conninfo(), "--slot", "no_such_slot_here",
                                     "--publication", publication_, "--quiet"}),
                        kExitSlot, {"no_such_slot_here"});
  expect_one_line_error(run_vil_cdc({"stream", "--conn", conninfo(), "--slot", slot_,
                                     "--publication", "no_such_publication_here", "--quiet"}),
                        kExitSlot, {"no_such_publication_here"});
}

TEST_F(CliErrors, SlotInUseExitsFour) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  ChildProcess holder(vil_cdc_path(), stream_args());
  ASSERT_TRUE(wait_until([&] { return slot_active(slot_); }, &holder))
      << holder.wait(1ms).describe();
  const ProcessResult r = run_vil_cdc(stream_args());
  expect_one_line_error(r, kExitSlot, {slot_});
  holder.send_signal(SIGTERM);
  const ProcessResult held = holder.wait(kRunDeadline);
  EXPECT_TRUE(held.exited(0)) << held.describe();
}

// An output or log file that cannot be opened is the configuration's fault.
TEST_F(CliErrors, UnwritableOutputExitsTwo) {
  make_stream();
  expect_one_line_error(run_vil_cdc(stream_args({"--output", "/nonexistent-dir/changes.jsonl"})), 2,
                        {"/nonexistent-dir/changes.jsonl"});
}

// The password appears in no stdout, stderr or --log file, whatever happens.
class CliSecrets : public CliTest {
 protected:
  static constexpr std::string_view kPassword = "Pw-Zebra-7731-Quokka";
  static constexpr std::string_view kWrongPassword = "Wrong-Pw-Narwhal-4242";

  void expect_no_secret(std::string_view where, const std::string& text) {
    for (auto secret : {kPassword, kWrongPassword}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << where << " shows a password:\n" << text;
    }
  }
  void expect_no_secret(const ProcessResult& r) {
    expect_no_secret("stdout", r.out);
    expect_no_secret("stderr", r.err);
  }
  TempDir dir_;
};

TEST_F(CliSecrets, PasswordNeverShown) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  make_stream();
  const std::string role = unique_name("cli_secret_role");
  cluster().create_role_with_password(role, kPassword);
  const std::string good = conninfo(role) + " password=" + std::string(kPassword);
  const std::string wrong = conninfo(role) + " password=" + std::string(kWrongPassword);
  const int port = cluster().port();
  const std::string uri_wrong =
      fmt::format("postgresql://{}:{}@127.0.0.1:{}/{}", role, kWrongPassword, port, dbname());
  auto args = [&](const std::string& conn, std::initializer_list<std::string> more) {
    std::vector<std::string> a{"stream", "--conn",        conn,        "--slot",
                               slot_,    "--publication", publication_};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };

  // Refused logins, key/value and URI, with notices on.
  for (const std::string& conn : {wrong, uri_wrong}) {
    const ProcessResult r = run_vil_cdc(args(conn, {}));
    EXPECT_TRUE(r.exited(kExitConnection)) << r.describe();
    expect_no_secret(r);
  }
  // A string libpq cannot parse, with the password in the broken part.
  for (const std::string& conn :
       {fmt::format("postgresql://{}:{}%zz@127.0.0.1:{}/{}", role, kPassword, port, dbname()),
        conninfo(role) + " password='" + std::string(kPassword)}) {
    const ProcessResult r = run_vil_cdc(args(conn, {}));
    EXPECT_TRUE(r.exited(kExitUsage)) << r.describe();
    expect_no_secret(r);
  }

  // Successful runs, logging every row change to a file in two formats.
  execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
  execute("UPDATE t SET v = 'c' WHERE id = 1");
  execute("DELETE FROM t WHERE id = 2");
  execute("SELECT pg_logical_emit_message(true, 'p', 'not a row change')");
  const std::string first_end = current_wal_lsn();
  const auto resolved_log = dir_ / "resolved.log";
  ProcessResult r = run_vil_cdc(args(
      good, {"--end-lsn", first_end, "--log", resolved_log.string(), "--log-format", "resolved"}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  expect_no_secret(r);
  EXPECT_EQ(lines_of(r.out).size(), 5u);
  const std::string resolved = read_text_file(resolved_log);
  expect_no_secret("the resolved log", resolved);
  const auto resolved_lines = lines_of(resolved);
  EXPECT_EQ(resolved_lines.size(), 4u) << "one record per row change:\n" << resolved;
  for (const auto& line : resolved_lines) {
    EXPECT_NE(line.find("broker=" + slot_), std::string::npos) << line;
    EXPECT_NE(line.find("topic=public.t"), std::string::npos) << line;
    EXPECT_NE(line.find("group=" + publication_), std::string::npos) << line;
  }

  execute("INSERT INTO t VALUES (3, 'd'), (4, 'e'), (5, 'f')");
  execute("UPDATE t SET v = 'g'");
  const auto json_log = dir_ / "json.log";
  r = run_vil_cdc(args(good, {"--end-lsn", current_wal_lsn(), "--log", json_log.string(),
                              "--log-format", "json", "--quiet"}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  expect_no_secret(r);
  const auto changes = parse_lines(r.out);
  ASSERT_EQ(changes.size(), 7u) << r.out;
  const std::string json = read_text_file(json_log);
  expect_no_secret("the json log", json);
  const auto records = parse_lines(json);
  ASSERT_EQ(records.size(), 7u) << "one record per row change:\n" << json;
  const char* op_types[] = {"publish", "publish", "publish", "consume",
                            "consume", "consume", "consume"};
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i]["category"], "mq");
    EXPECT_EQ(records[i]["level"], "info");
    EXPECT_EQ(records[i]["op_type"], op_types[i]) << records[i].dump();
  }
  // offset is the change's sequence number: increasing, one per change.
  for (size_t i = 1; i < records.size(); ++i) {
    EXPECT_EQ(records[i]["offset"].get<uint64_t>(), records[i - 1]["offset"].get<uint64_t>() + 1);
  }

  // The same from a configuration file: once streaming with mq_log records
  // on stderr, once refused, once with a bad key.
  execute("DELETE FROM t WHERE id = 5");
  const auto good_file = dir_ / "good.yaml";
  write_text_file(good_file,
                  fmt::format("cdc:\n  conn_string: \"{}\"\n  slot_name: {}\n  publication: {}\n"
                              "output:\n  end_lsn: \"{}\"\n  log: stderr\n",
                              good, slot_, publication_, current_wal_lsn()));
  r = run_vil_cdc({"stream", "--config", good_file.string()});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  expect_no_secret(r);
  EXPECT_EQ(lines_of(r.out).size(), 1u) << r.out;
  const auto stderr_records = lines_of(r.err);
  ASSERT_EQ(stderr_records.size(), 1u) << "one pretty record on stderr:\n" << r.err;
  EXPECT_NE(stderr_records[0].find("INFO  mq ack"), std::string::npos) << stderr_records[0];

  // And refused, and with a bad key.
  const auto refused_file = dir_ / "refused.yaml";
  write_text_file(refused_file,
                  fmt::format("cdc:\n  conn_string: \"{}\"\n  slot_name: {}\n  publication: {}\n",
                              wrong, slot_, publication_));
  r = run_vil_cdc({"stream", "--config", refused_file.string()});
  EXPECT_TRUE(r.exited(kExitConnection)) << r.describe();
  expect_no_secret(r);
  const auto bad_file = dir_ / "bad.yaml";
  write_text_file(bad_file, fmt::format("cdc:\n  conn_string: \"{}\"\n  slot_name: {}\n  "
                                        "publication: {}\n  colour: red\n",
                                        good, slot_, publication_));
  r = run_vil_cdc({"stream", "--config", bad_file.string()});
  EXPECT_TRUE(r.exited(kExitUsage)) << r.describe();
  expect_no_secret(r);
}

}  // namespace
}  // namespace vil::testing::cli
