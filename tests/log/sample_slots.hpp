#pragma once
// Known records for the format and sink tests.

#include "vil/log/dictionary.hpp"
#include "vil/log/log_slot.hpp"
#include "vil/log/mq_payload.hpp"

namespace vil::log::test {

// An Mq record as the CDC trigger writes one: hashes of "vil_cdc_slot",
// "public.orders", "vil_pub"; service "vil-cdc"; node "node a".
inline LogSlot sample_mq_slot() {
  LogSlot slot;
  slot.header.event_id = {.lo = 0x2a, .hi = 0x1};
  slot.header.process_id = 1234;
  slot.header.timestamp_ns = 1704164645123456789u;  // 2024-01-02T03:04:05.123456789Z
  slot.header.level = LogLevel::Info;
  slot.header.category = LogCategory::Mq;
  slot.header.service_hash = 0x64a4478d;
  slot.header.handler_hash = 0x00000002;
  slot.header.node_hash = 0x5e14adc6;
  MqPayload payload;
  payload.broker_hash = 0xf13aaf74;
  payload.topic_hash = 0x3237d54d;
  payload.group_hash = 0xf58857e8;
  payload.offset = 42;
  payload.message_bytes = 128;
  payload.e2e_latency_ns = 1500;
  payload.op_type = MqOp::Publish;
  payload.partition = 3;
  payload.retries = 1;
  payload.compression = 2;
  payload.meta_bytes[0] = 0xab;
  payload.meta_bytes[2] = 0x01;
  slot.payload = to_payload_bytes(payload);
  return slot;
}

inline void register_sample_names(Dictionary& names) {
  names.register_str("vil_cdc_slot");
  names.register_str("public.orders");
  names.register_str("vil_pub");
  names.register_str("vil-cdc");
  names.register_str("node a");
}

inline constexpr const char* kSamplePretty =
    "2024-01-02T03:04:05.123456789Z INFO  mq publish broker=0xf13aaf74 topic=0x3237d54d "
    "group=0xf58857e8 offset=42 partition=3 message_bytes=128 e2e_latency_ns=1500 retries=1 "
    "compression=2 service=0x64a4478d handler=0x00000002 node=0x5e14adc6 pid=1234 "
    "event_id=0000000000000001000000000000002a\n";

inline constexpr const char* kSampleJson =
    "{\"event_id\":\"0000000000000001000000000000002a\",\"trace_id\":0,\"tenant_id\":0,"
    "\"process_id\":1234,\"timestamp_ns\":1704164645123456789,\"level\":\"info\","
    "\"category\":\"mq\",\"subcategory\":0,\"version\":1,\"service_hash\":1688487821,"
    "\"handler_hash\":2,\"node_hash\":1578413510,\"broker_hash\":4047155060,"
    "\"topic_hash\":842519885,\"group_hash\":4119353320,\"offset\":42,\"message_bytes\":128,"
    "\"e2e_latency_ns\":1500,\"op_type\":\"publish\",\"partition\":3,\"retries\":1,"
    "\"compression\":2,\"meta_bytes\":\"ab0001\"}\n";

}  // namespace vil::log::test
