// Session set-up's rules that need no server (docs/DESIGN.md §6.2 steps 2
// and 3): which pgoutput protocol each server version gets, the exact
// START_REPLICATION command built from it, and how the server's
// wal_sender_timeout is read. A wrong protocol or option fails
// START_REPLICATION on that server version; a misread timeout lets the
// server drop the connection between status updates.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "replication/replication_command.hpp"
#include "replication/session_setup.hpp"

namespace vil::replication {
namespace {

TEST(ProtocolVersion, TheHighestEachServerVersionSpeaks) {
  EXPECT_EQ(highest_protocol_version(90624), 1u);  // refused later, but never 0
  EXPECT_EQ(highest_protocol_version(100023), 1u);
  EXPECT_EQ(highest_protocol_version(110022), 1u);
  EXPECT_EQ(highest_protocol_version(120022), 1u);
  EXPECT_EQ(highest_protocol_version(130021), 1u);
  EXPECT_EQ(highest_protocol_version(140000), 2u);
  EXPECT_EQ(highest_protocol_version(140018), 2u);
  EXPECT_EQ(highest_protocol_version(150000), 3u);
  EXPECT_EQ(highest_protocol_version(150013), 3u);
  EXPECT_EQ(highest_protocol_version(160000), 4u);
  EXPECT_EQ(highest_protocol_version(160009), 4u);
  EXPECT_EQ(highest_protocol_version(170005), 4u);
  EXPECT_EQ(highest_protocol_version(180000), 4u);
}

struct StartCase {
  int server_version;
  std::string_view with_messages;  // config.messages = true (the default)
  std::string_view without;        // config.messages = false
};

// What each supported server version is sent, at its highest protocol: the
// messages option only from 14 on, whose pgoutput knows it.
constexpr StartCase kStartCases[] = {
    {100023,
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '1', )"
     R"(publication_names '"vil_pub"'))",
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '1', )"
     R"(publication_names '"vil_pub"'))"},
    {110022,
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '1', )"
     R"(publication_names '"vil_pub"'))",
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '1', )"
     R"(publication_names '"vil_pub"'))"},
    {120022,
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '1', )"
     R"(publication_names '"vil_pub"'))",
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '1', )"
     R"(publication_names '"vil_pub"'))"},
    {130021,
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '1', )"
     R"(publication_names '"vil_pub"'))",
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '1', )"
     R"(publication_names '"vil_pub"'))"},
    {140018,
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '2', )"
     R"(publication_names '"vil_pub"', messages 'true'))",
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '2', )"
     R"(publication_names '"vil_pub"', messages 'false'))"},
    {150013,
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '3', )"
     R"(publication_names '"vil_pub"', messages 'true'))",
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '3', )"
     R"(publication_names '"vil_pub"', messages 'false'))"},
    {160009,
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '4', )"
     R"(publication_names '"vil_pub"', messages 'true'))",
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '4', )"
     R"(publication_names '"vil_pub"', messages 'false'))"},
    {170005,
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '4', )"
     R"(publication_names '"vil_pub"', messages 'true'))",
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '4', )"
     R"(publication_names '"vil_pub"', messages 'false'))"},
    {180000,
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '4', )"
     R"(publication_names '"vil_pub"', messages 'true'))",
     R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/16B3748 (proto_version '4', )"
     R"(publication_names '"vil_pub"', messages 'false'))"},
};

StreamSettings config_for(bool messages) {
  StreamSettings config;
  config.slot_name = "vil_slot";
  config.publication = "vil_pub";
  config.messages = messages;
  return config;
}

TEST(StartReplication, TheCommandForEachServerVersionFrom10To18) {
  for (const auto& c : kStartCases) {
    SCOPED_TRACE(c.server_version);
    const uint32_t protocol = highest_protocol_version(c.server_version);
    EXPECT_EQ(start_replication_command(config_for(true), c.server_version, protocol, 0x16B3748),
              std::string(c.with_messages));
    EXPECT_EQ(start_replication_command(config_for(false), c.server_version, protocol, 0x16B3748),
              std::string(c.without));
  }
}

TEST(StartReplication, AnAskedLowerProtocolIsSentAsAsked) {
  EXPECT_EQ(start_replication_command(config_for(true), 160009, 1, 0),
            R"(START_REPLICATION SLOT "vil_slot" LOGICAL 0/0 (proto_version '1', )"
            R"(publication_names '"vil_pub"', messages 'true'))");
}

TEST(StartReplication, TheStartLsnIsWrittenAsTwoHexHalves) {
  // PostgreSQL's X/Y form: upper case, no leading zeros in either half.
  auto lsn_in = [](uint64_t lsn) {
    const std::string command = start_replication_command(config_for(true), 130021, 1, lsn).value();
    const auto at = command.find("LOGICAL ") + 8;
    return command.substr(at, command.find(' ', at) - at);
  };
  EXPECT_EQ(lsn_in(0), "0/0");
  EXPECT_EQ(lsn_in(0x16B3748), "0/16B3748");
  EXPECT_EQ(lsn_in(0xFFFFFFFF), "0/FFFFFFFF");
  EXPECT_EQ(lsn_in(0x1'0000'0000), "1/0");
  EXPECT_EQ(lsn_in(0x2A'0000'0A0B), "2A/A0B");
  EXPECT_EQ(lsn_in(UINT64_MAX), "FFFFFFFF/FFFFFFFF");
}

TEST(StartReplication, NoCommandForANameWithANul) {
  auto config = config_for(true);
  config.slot_name = std::string("s\0x", 3);
  EXPECT_EQ(start_replication_command(config, 150013, 3, 0), std::nullopt);
  config = config_for(true);
  config.publication = std::string("p\0x", 3);
  EXPECT_EQ(start_replication_command(config, 150013, 3, 0), std::nullopt);
}

TEST(WalSenderTimeout, ReadInEachUnitShowPrints) {
  // SHOW prints a duration in the largest unit that divides it exactly.
  EXPECT_EQ(parse_duration_ms("1min"), 60'000);  // the default, 60s
  EXPECT_EQ(parse_duration_ms("90s"), 90'000);
  EXPECT_EQ(parse_duration_ms("500ms"), 500);
  EXPECT_EQ(parse_duration_ms("2h"), 7'200'000);
  EXPECT_EQ(parse_duration_ms("1d"), 86'400'000);
}

TEST(WalSenderTimeout, ZeroMeansNoTimeout) {
  // SHOW prints a disabled timeout as a bare 0.
  EXPECT_EQ(parse_duration_ms("0"), 0);
}

TEST(WalSenderTimeout, TextThatIsNoNumberCountsAsNoTimeout) {
  // The status interval then stays the configured one.
  EXPECT_EQ(parse_duration_ms(""), 0);
  EXPECT_EQ(parse_duration_ms("min"), 0);
  EXPECT_EQ(parse_duration_ms("off"), 0);
}

}  // namespace
}  // namespace vil::replication
