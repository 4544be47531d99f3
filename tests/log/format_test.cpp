#include "vil/log/format.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "log/sample_slots.hpp"
#include "vil/log/fx_hash.hpp"

namespace {

using namespace vil::log;
using vil::log::test::kSampleJson;
using vil::log::test::kSamplePretty;
using vil::log::test::sample_mq_slot;

TEST(Format, Pretty) {
  const Dictionary names;
  EXPECT_EQ(format_slot(sample_mq_slot(), LogFormat::Pretty, names), kSamplePretty);
}

TEST(Format, PrettyIgnoresTheDictionary) {
  Dictionary names;
  test::register_sample_names(names);
  EXPECT_EQ(format_slot(sample_mq_slot(), LogFormat::Pretty, names), kSamplePretty);
}

TEST(Format, Resolved) {
  Dictionary names;
  test::register_sample_names(names);
  EXPECT_EQ(format_slot(sample_mq_slot(), LogFormat::Resolved, names),
            "2024-01-02T03:04:05.123456789Z INFO  mq publish broker=vil_cdc_slot "
            "topic=public.orders group=vil_pub offset=42 partition=3 message_bytes=128 "
            "e2e_latency_ns=1500 retries=1 compression=2 service=vil-cdc handler=0x00000002 "
            "node=\"node a\" pid=1234 event_id=0000000000000001000000000000002a\n");
}

TEST(Format, ResolvedQuotesNamesThatWouldBreakTheLine) {
  Dictionary names;
  LogSlot slot = sample_mq_slot();
  slot.header.service_hash = names.register_str("a\"b\tc\\d");
  slot.header.handler_hash = names.register_str("");
  slot.header.node_hash = names.register_str("k=v");
  const std::string line = format_slot(slot, LogFormat::Resolved, names);
  EXPECT_NE(line.find(R"( service="a\"b\tc\\d" handler="" node="k=v" pid=1234)"), std::string::npos)
      << line;
}

TEST(Format, Compact) {
  EXPECT_EQ(format_slot(sample_mq_slot(), LogFormat::Compact, Dictionary()),
            "1704164645123456789 I mq publish b=f13aaf74 t=3237d54d g=f58857e8 off=42 part=3 "
            "bytes=128 lat_ns=1500\n");
}

TEST(Format, Json) {
  const std::string line = format_slot(sample_mq_slot(), LogFormat::Json, Dictionary());
  EXPECT_EQ(line, kSampleJson);
  const auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed.size(), 23u);
  EXPECT_EQ(parsed["offset"], 42);
}

TEST(Format, OtherCategoriesAndOptionalHeaderFields) {
  LogSlot slot;
  slot.header.event_id = {.lo = 5, .hi = 0};
  slot.header.trace_id = 0xabc;
  slot.header.tenant_id = 7;
  slot.header.process_id = 1;
  slot.header.timestamp_ns = 1;
  slot.header.level = static_cast<LogLevel>(9);
  slot.header.category = LogCategory::App;
  slot.payload[0] = 1;
  slot.payload[1] = 2;
  const Dictionary names;
  EXPECT_EQ(format_slot(slot, LogFormat::Pretty, names),
            "1970-01-01T00:00:00.000000001Z 9     app payload=0102 service=0x00000000 "
            "handler=0x00000000 node=0x00000000 trace=0000000000000abc tenant=7 pid=1 "
            "event_id=00000000000000000000000000000005\n");
  EXPECT_EQ(format_slot(slot, LogFormat::Compact, names), "1 9 app payload=0102\n");
  EXPECT_EQ(format_slot(slot, LogFormat::Json, names),
            "{\"event_id\":\"00000000000000000000000000000005\",\"trace_id\":2748,"
            "\"tenant_id\":7,\"process_id\":1,\"timestamp_ns\":1,\"level\":\"9\","
            "\"category\":\"app\",\"subcategory\":0,\"version\":1,\"service_hash\":0,"
            "\"handler_hash\":0,\"node_hash\":0,\"payload\":\"0102\"}\n");
}

TEST(Format, UnknownOperationAndEveryLevelInitial) {
  LogSlot slot = sample_mq_slot();
  MqPayload payload = as_mq_payload(slot);
  payload.op_type = static_cast<MqOp>(7);
  slot.payload = to_payload_bytes(payload);
  const char* const initials[] = {"T", "D", "I", "W", "E", "F"};
  for (int level = 0; level <= 5; ++level) {
    slot.header.level = static_cast<LogLevel>(level);
    EXPECT_EQ(format_slot(slot, LogFormat::Compact, Dictionary()),
              std::string("1704164645123456789 ") + initials[level] +
                  " mq 7 b=f13aaf74 t=3237d54d g=f58857e8 off=42 part=3 bytes=128 lat_ns=1500\n");
  }
  slot.header.level = LogLevel::Warn;
  EXPECT_NE(format_slot(slot, LogFormat::Pretty, Dictionary()).find(" WARN  mq 7 broker="),
            std::string::npos);
  EXPECT_NE(format_slot(slot, LogFormat::Json, Dictionary()).find("\"op_type\":\"7\""),
            std::string::npos);
}

TEST(Format, AppendsToTheBuffer) {
  std::string out = "x";
  format_slot(out, sample_mq_slot(), LogFormat::Json, Dictionary());
  EXPECT_EQ(out, std::string("x") + kSampleJson);
}

TEST(Format, Names) {
  EXPECT_EQ(parse_log_format("pretty"), LogFormat::Pretty);
  EXPECT_EQ(parse_log_format("compact"), LogFormat::Compact);
  EXPECT_EQ(parse_log_format("json"), LogFormat::Json);
  EXPECT_EQ(parse_log_format("resolved"), LogFormat::Resolved);
  EXPECT_EQ(parse_log_format("Pretty"), std::nullopt);
  EXPECT_EQ(to_string(LogFormat::Resolved), "resolved");
}

}  // namespace
