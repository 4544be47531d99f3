// The stream's rules that need no server: replication-command quoting, the
// START_REPLICATION text per server version, reconnect backoff and the
// status interval.

#include <gtest/gtest.h>

#include "replication/reconnect_backoff.hpp"
#include "replication/replication_command.hpp"
#include "replication/status_interval.hpp"

namespace vil::replication {
namespace {

using namespace std::chrono_literals;

TEST(ReplicationCommandQuoting, LiteralsDoubleSingleQuotesAndKeepBackslashes) {
  EXPECT_EQ(quote_replication_literal("plain"), "'plain'");
  EXPECT_EQ(quote_replication_literal("it's"), "'it''s'");
  // No E'...': the replication scanner has no backslash escapes.
  EXPECT_EQ(quote_replication_literal(R"(back\slash)"), R"('back\slash')");
  EXPECT_EQ(quote_replication_literal("x'); DROP TABLE t; --"), "'x''); DROP TABLE t; --'");
  EXPECT_EQ(quote_replication_literal(""), "''");
  EXPECT_EQ(quote_replication_literal(std::string_view("a\0b", 3)), std::nullopt);
}

TEST(ReplicationCommandQuoting, IdentifiersDoubleDoubleQuotes) {
  EXPECT_EQ(quote_replication_identifier("slot_1"), "\"slot_1\"");
  EXPECT_EQ(quote_replication_identifier("my \"pub\""), "\"my \"\"pub\"\"\"");
  EXPECT_EQ(quote_replication_identifier(std::string_view("a\0", 2)), std::nullopt);
}

TEST(ReplicationCommand, StartReplicationNamesThePublicationInsideALiteral) {
  StreamSettings config;
  config.slot_name = "s1";
  config.publication = R"(p "q" 'r' \s)";
  auto command = start_replication_command(config, 150004, 3, 0x1'0000'00A0);
  ASSERT_TRUE(command);
  EXPECT_EQ(*command, R"(START_REPLICATION SLOT "s1" LOGICAL 1/A0 (proto_version '3', )"
                      R"(publication_names '"p ""q"" ''r'' \s"', messages 'true'))");
}

TEST(ReplicationCommand, MessagesOnlyWhereTheServerKnowsTheOption) {
  StreamSettings config;
  config.slot_name = "s";
  config.publication = "p";
  EXPECT_EQ(start_replication_command(config, 130012, 1, 0),
            R"(START_REPLICATION SLOT "s" LOGICAL 0/0 (proto_version '1', )"
            R"(publication_names '"p"'))");
  config.messages = false;
  EXPECT_EQ(start_replication_command(config, 140000, 2, 0),
            R"(START_REPLICATION SLOT "s" LOGICAL 0/0 (proto_version '2', )"
            R"(publication_names '"p"', messages 'false'))");
}

TEST(ReplicationCommand, StreamingOnlyWhereTheProtocolHasIt) {
  StreamSettings config;
  config.slot_name = "s";
  config.publication = "p";
  config.streaming = "on";
  EXPECT_EQ(start_replication_command(config, 150004, 3, 0),
            R"(START_REPLICATION SLOT "s" LOGICAL 0/0 (proto_version '3', )"
            R"(publication_names '"p"', messages 'true', streaming 'on'))");
  // Protocol 1 cannot stream: the server spills, as without the option.
  EXPECT_EQ(start_replication_command(config, 150004, 1, 0),
            R"(START_REPLICATION SLOT "s" LOGICAL 0/0 (proto_version '1', )"
            R"(publication_names '"p"', messages 'true'))");
  config.streaming = "parallel";
  EXPECT_EQ(start_replication_command(config, 160000, 4, 0),
            R"(START_REPLICATION SLOT "s" LOGICAL 0/0 (proto_version '4', )"
            R"(publication_names '"p"', messages 'true', streaming 'parallel'))");
}

TEST(ReplicationCommand, CreateSlotPermanentOrTemporary) {
  StreamSettings config;
  config.slot_name = "s";
  EXPECT_EQ(create_slot_command(config),
            R"(CREATE_REPLICATION_SLOT "s" LOGICAL pgoutput NOEXPORT_SNAPSHOT)");
  config.temporary_slot = true;
  EXPECT_EQ(create_slot_command(config),
            R"(CREATE_REPLICATION_SLOT "s" TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT)");
}

TEST(ReplicationCommand, FailoverSlotsTakeTheOptionList) {
  StreamSettings config;
  config.slot_name = "s";
  config.failover = true;
  EXPECT_EQ(create_slot_command(config),
            R"(CREATE_REPLICATION_SLOT "s" LOGICAL pgoutput (SNAPSHOT 'nothing', FAILOVER))");
  config.export_snapshot = true;
  config.resumable_snapshot = true;
  EXPECT_EQ(create_slot_command(config),
            R"(CREATE_REPLICATION_SLOT "s" LOGICAL pgoutput (SNAPSHOT 'export', FAILOVER))");
  // The temporary slot that exports a snapshot cannot fail over: set-up
  // turns failover on once it copied it to the permanent one.
  config.resumable_snapshot = false;
  EXPECT_EQ(create_slot_command(config),
            R"(CREATE_REPLICATION_SLOT "s_snapshot" TEMPORARY LOGICAL pgoutput EXPORT_SNAPSHOT)");
  EXPECT_EQ(failover_on_command("a\"b"), R"(ALTER_REPLICATION_SLOT "a""b" ( FAILOVER true ))");
}

TEST(ReconnectBackoff, DoublesFromTheInitialValue) {
  ReconnectPolicy policy{100ms, 1000ms, 0};
  EXPECT_EQ(backoff_delay(policy, 1, 1.0), 100ms);
  EXPECT_EQ(backoff_delay(policy, 2, 1.0), 200ms);
  EXPECT_EQ(backoff_delay(policy, 3, 1.0), 400ms);
  EXPECT_EQ(backoff_delay(policy, 4, 1.0), 800ms);
  EXPECT_EQ(backoff_delay(policy, 5, 1.0), 1000ms);
  EXPECT_EQ(backoff_delay(policy, 1, 0.8), 80ms);
  EXPECT_EQ(backoff_delay(policy, 1, 1.2), 120ms);
}

TEST(ReconnectBackoff, JitterNeverPassesTheCap) {
  ReconnectPolicy policy{100ms, 1000ms, 0};
  for (uint32_t attempt : {4u, 5u, 10u, 1000u}) {
    SCOPED_TRACE(attempt);
    EXPECT_LE(backoff_delay(policy, attempt, 1.2), 1000ms);
    EXPECT_GE(backoff_delay(policy, attempt, 0.8), 640ms);
  }
  EXPECT_EQ(backoff_delay(policy, 4, 1.2), 960ms);
}

TEST(StatusInterval, AtMostHalfTheServersTimeout) {
  EXPECT_EQ(status_interval(10'000ms, 0), 10'000ms);  // no timeout on the server
  EXPECT_EQ(status_interval(10'000ms, 60'000), 10'000ms);
  EXPECT_EQ(status_interval(10'000ms, 2'000), 1'000ms);
  // Small timeouts: half of them, even below the old 100 ms floor.
  EXPECT_EQ(status_interval(10'000ms, 100), 50ms);
  EXPECT_EQ(status_interval(10'000ms, 30), 15ms);
  EXPECT_EQ(status_interval(10'000ms, 12), 6ms);
  EXPECT_EQ(status_interval(10'000ms, 1), 1ms);
}

TEST(StatusInterval, FlooredWhereTheTimeoutAllows) {
  EXPECT_EQ(status_interval(1ms, 0), kMinStatusInterval);
  EXPECT_EQ(status_interval(1ms, 60'000), kMinStatusInterval);
  EXPECT_EQ(status_interval(1ms, 12), 6ms);                // the half wins over the floor
  EXPECT_EQ(status_interval(0ms, 0), kMinStatusInterval);  // never a busy loop
}

}  // namespace
}  // namespace vil::replication
