// `vil-cdc status` and `vil-cdc drop-slot` against the throwaway cluster: a
// slot with a known lag, as JSON and as a table; a publication's tables; a
// slot or publication that is not there (exit 4); drop-slot refusing
// without --yes (exit 2), dropping with it, and a server not there (exit 3).

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"

namespace vil::testing::cli {
namespace {

class CliStatus : public CliTest {};

TEST_F(CliStatus, ASlotWithAKnownLagAsJsonAndAsATable) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  execute("CREATE TABLE u (id int PRIMARY KEY)");
  make_stream("t, u");
  const uint64_t confirmed = confirmed_flush_lsn(slot_);
  execute("INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g");
  const uint64_t written = lsn_value(current_wal_lsn());

  const ProcessResult r = run_vil_cdc(
      {"status", "--conn", conninfo(), "--slot", slot_, "--publication", publication_, "--json"});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.err, "");
  const Json report = Json::parse(r.out);
  ASSERT_EQ(report["slots"].size(), 1u) << r.out;
  const Json& slot = report["slots"][0];
  EXPECT_EQ(slot["slot"], slot_);
  EXPECT_EQ(slot["plugin"], "pgoutput");
  EXPECT_EQ(slot["database"], query_value("SELECT current_database()"));
  EXPECT_EQ(slot["active"], false);
  EXPECT_TRUE(slot["active_pid"].is_null());
  EXPECT_EQ(lsn_value(slot["confirmed_flush_lsn"].get<std::string>()), confirmed);
  EXPECT_EQ(slot["wal_status"], "reserved");
  EXPECT_TRUE(slot["safe_wal_size"].is_null()) << "max_slot_wal_keep_size is -1";
  EXPECT_EQ(slot["temporary"], false);
  // The lag is the server's position minus the confirmed one, at least what
  // the test wrote.
  const uint64_t server = lsn_value(slot["server_lsn"].get<std::string>());
  EXPECT_GE(server, written);
  EXPECT_EQ(slot["lag_bytes"].get<uint64_t>(), server - confirmed);
  EXPECT_GT(slot["lag_bytes"].get<uint64_t>(), 200'000u);
  EXPECT_EQ(report["publication"],
            Json::parse(
                fmt::format(R"({{"name":"{}","tables":["public.t","public.u"]}})", publication_)));

  const ProcessResult table =
      run_vil_cdc({"status", "--conn", conninfo(), "--slot", slot_, "--publication", publication_});
  ASSERT_TRUE(table.exited(0)) << table.describe();
  const auto lines = lines_of(table.out);
  ASSERT_EQ(lines.size(), 4u) << table.out;
  EXPECT_EQ(lines[0].substr(0, 4), "SLOT");
  EXPECT_NE(lines[0].find("LAG BYTES"), std::string::npos);
  EXPECT_EQ(lines[1].substr(0, slot_.size() + 1), slot_ + " ");
  EXPECT_NE(lines[1].find(slot["confirmed_flush_lsn"].get<std::string>()), std::string::npos);
  EXPECT_NE(lines[1].find(" reserved "), std::string::npos);
  EXPECT_EQ(lines[2], "");
  EXPECT_EQ(lines[3], fmt::format("publication {}: public.t public.u", publication_));
}

TEST_F(CliStatus, WhatIsNotThereIsAClearError) {
  make_stream();
  expect_one_line_error(run_vil_cdc({"status", "--conn", conninfo(), "--slot", "no_such_slot"}), 4,
                        {"no logical replication slot named \"no_such_slot\""});
  expect_one_line_error(
      run_vil_cdc({"status", "--conn", conninfo(), "--publication", "no_such_pub"}), 4,
      {"no publication named \"no_such_pub\""});
  const ProcessResult away =
      run_vil_cdc({"status", "--conn", "host=127.0.0.1 port=1 password=s3cret-pass"});
  expect_one_line_error(away, 3, {"cannot connect: ", "Connection refused"});
  EXPECT_EQ(away.err.find("s3cret-pass"), std::string::npos);
  expect_one_line_error(run_vil_cdc({"stats"}), 2, {"'stats' is not a command"});
}

TEST_F(CliStatus, DropSlotAsksForYesThenDrops) {
  make_stream();
  expect_one_line_error(run_vil_cdc({"drop-slot", "--conn", conninfo(), "--slot", slot_}), 2,
                        {"add --yes to drop it"});
  EXPECT_TRUE(slot_exists(slot_));
  const ProcessResult dropped =
      run_vil_cdc({"drop-slot", "--conn", conninfo(), "--slot", slot_, "--yes"});
  ASSERT_TRUE(dropped.exited(0)) << dropped.describe();
  EXPECT_EQ(dropped.err, fmt::format("vil-cdc: dropped slot \"{}\"\n", slot_));
  EXPECT_FALSE(slot_exists(slot_));
  expect_one_line_error(run_vil_cdc({"drop-slot", "--conn", conninfo(), "--slot", slot_, "--yes"}),
                        4, {fmt::format("no logical replication slot named \"{}\"", slot_)});
}

}  // namespace
}  // namespace vil::testing::cli
