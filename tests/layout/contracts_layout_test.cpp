// The byte layouts of the VIL contracts, checked at run time as well: a
// static_assert that someone weakens in a header still fails here.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "vil/core.hpp"
#include "vil/log.hpp"

namespace {

using vil::core::TriggerEvent;
using vil::core::TriggerState;
using vil::log::LogSlot;
using vil::log::MqPayload;
using vil::log::VilLogHeader;

template <class T>
constexpr bool plain_v = std::is_trivially_copyable_v<T>&& std::is_standard_layout_v<T>;

TEST(Layout, TriggerEvent) {
  EXPECT_TRUE(plain_v<TriggerEvent>);
  EXPECT_EQ(sizeof(TriggerEvent), 32u);
  EXPECT_EQ(alignof(TriggerEvent), 8u);
  EXPECT_EQ(offsetof(TriggerEvent, kind_hash), 0u);
  EXPECT_EQ(offsetof(TriggerEvent, source_hash), 4u);
  EXPECT_EQ(offsetof(TriggerEvent, sequence), 8u);
  EXPECT_EQ(offsetof(TriggerEvent, timestamp_ns), 16u);
  EXPECT_EQ(offsetof(TriggerEvent, payload_bytes), 24u);
  EXPECT_EQ(offsetof(TriggerEvent, op), 28u);
  EXPECT_EQ(sizeof(vil::core::TriggerOp), 1u);
  EXPECT_EQ(static_cast<int>(vil::core::TriggerOp::Fire), 0);
  EXPECT_EQ(static_cast<int>(vil::core::TriggerOp::PauseAck), 1);
  EXPECT_EQ(static_cast<int>(vil::core::TriggerOp::ResumeAck), 2);
  EXPECT_EQ(static_cast<int>(vil::core::TriggerOp::StopAck), 3);
}

TEST(Layout, TriggerEventBytesAreLittleEndianFields) {
  const TriggerEvent event{.kind_hash = 0x76f33000,
                           .source_hash = 0x01020304,
                           .sequence = 0x1122334455667788,
                           .timestamp_ns = 9,
                           .payload_bytes = 0xaabbccdd,
                           .op = vil::core::TriggerOp::StopAck};
  unsigned char bytes[32];
  std::memcpy(bytes, &event, sizeof bytes);
  const unsigned char expected[32] = {0x00, 0x30, 0xf3, 0x76, 0x04, 0x03, 0x02, 0x01,
                                      0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
                                      9,    0,    0,    0,    0,    0,    0,    0,
                                      0xdd, 0xcc, 0xbb, 0xaa, 3,    0,    0,    0};
  EXPECT_EQ(std::memcmp(bytes, expected, 32), 0);
}

TEST(Layout, TriggerState) {
  EXPECT_TRUE(plain_v<TriggerState>);
  EXPECT_EQ(sizeof(TriggerState), 32u);
  EXPECT_EQ(offsetof(TriggerState, events_fired), 0u);
  EXPECT_EQ(offsetof(TriggerState, trigger_errors), 8u);
  EXPECT_EQ(offsetof(TriggerState, events_dropped), 16u);
  EXPECT_EQ(offsetof(TriggerState, last_fire_ns), 24u);
}

TEST(Layout, TriggerKindCodes) {
  using vil::core::TriggerKind;
  EXPECT_EQ(sizeof(TriggerKind), 1u);
  EXPECT_EQ(static_cast<int>(TriggerKind::Cron), 0);
  EXPECT_EQ(static_cast<int>(TriggerKind::Fs), 1);
  EXPECT_EQ(static_cast<int>(TriggerKind::Cdc), 2);
  EXPECT_EQ(static_cast<int>(TriggerKind::Webhook), 3);
  EXPECT_EQ(static_cast<int>(TriggerKind::Email), 4);
  EXPECT_EQ(static_cast<int>(TriggerKind::Iot), 5);
  EXPECT_EQ(static_cast<int>(TriggerKind::Evm), 6);
  EXPECT_EQ(static_cast<int>(TriggerKind::Custom), 255);
}

TEST(Layout, VilLogHeader) {
  EXPECT_TRUE(plain_v<VilLogHeader>);
  EXPECT_EQ(sizeof(VilLogHeader), 64u);
  EXPECT_EQ(alignof(VilLogHeader), 64u);
  EXPECT_EQ(offsetof(VilLogHeader, event_id), 0u);
  EXPECT_EQ(sizeof(VilLogHeader::event_id), 16u);
  EXPECT_EQ(offsetof(VilLogHeader, trace_id), 16u);
  EXPECT_EQ(offsetof(VilLogHeader, tenant_id), 24u);
  EXPECT_EQ(offsetof(VilLogHeader, process_id), 32u);
  EXPECT_EQ(offsetof(VilLogHeader, timestamp_ns), 40u);
  EXPECT_EQ(offsetof(VilLogHeader, level), 48u);
  EXPECT_EQ(offsetof(VilLogHeader, category), 49u);
  EXPECT_EQ(offsetof(VilLogHeader, subcategory), 50u);
  EXPECT_EQ(offsetof(VilLogHeader, version), 51u);
  EXPECT_EQ(offsetof(VilLogHeader, service_hash), 52u);
  EXPECT_EQ(offsetof(VilLogHeader, handler_hash), 56u);
  EXPECT_EQ(offsetof(VilLogHeader, node_hash), 60u);
  EXPECT_EQ(VilLogHeader{}.version, 1);
}

TEST(Layout, EventIdIsLittleEndianU128) {
  VilLogHeader header;
  header.event_id = {.lo = 0x0807060504030201, .hi = 0x100f0e0d0c0b0a09};
  unsigned char bytes[16];
  std::memcpy(bytes, &header, sizeof bytes);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(bytes[i], i + 1) << "byte " << i;
}

TEST(Layout, LogSlot) {
  EXPECT_TRUE(plain_v<LogSlot>);
  EXPECT_EQ(sizeof(LogSlot), 256u);
  EXPECT_EQ(alignof(LogSlot), 64u);
  EXPECT_EQ(offsetof(LogSlot, header), 0u);
  EXPECT_EQ(offsetof(LogSlot, payload), 64u);
  EXPECT_EQ(sizeof(LogSlot::payload), 192u);
}

TEST(Layout, MqPayload) {
  EXPECT_TRUE(plain_v<MqPayload>);
  EXPECT_EQ(sizeof(MqPayload), 192u);
  EXPECT_EQ(offsetof(MqPayload, broker_hash), 0u);
  EXPECT_EQ(offsetof(MqPayload, topic_hash), 4u);
  EXPECT_EQ(offsetof(MqPayload, group_hash), 8u);
  EXPECT_EQ(offsetof(MqPayload, offset), 16u);
  EXPECT_EQ(offsetof(MqPayload, message_bytes), 24u);
  EXPECT_EQ(offsetof(MqPayload, e2e_latency_ns), 32u);
  EXPECT_EQ(offsetof(MqPayload, op_type), 40u);
  EXPECT_EQ(offsetof(MqPayload, partition), 41u);
  EXPECT_EQ(offsetof(MqPayload, retries), 42u);
  EXPECT_EQ(offsetof(MqPayload, compression), 43u);
  EXPECT_EQ(offsetof(MqPayload, meta_bytes), 44u);
  EXPECT_EQ(sizeof(MqPayload::meta_bytes), 148u);
}

TEST(Layout, MqPayloadRoundTripsThroughSlotBytes) {
  MqPayload payload;
  payload.broker_hash = 0xf13aaf74;
  payload.offset = 42;
  payload.op_type = vil::log::MqOp::Dlq;
  payload.meta_bytes[147] = 0xee;
  LogSlot slot;
  slot.payload = vil::log::to_payload_bytes(payload);
  EXPECT_EQ(slot.payload[0], 0x74);
  EXPECT_EQ(slot.payload[16], 42);
  EXPECT_EQ(slot.payload[40], 4);
  EXPECT_EQ(slot.payload[191], 0xee);
  EXPECT_EQ(vil::log::as_mq_payload(slot), payload);
}

TEST(Layout, LevelAndCategoryCodes) {
  using vil::log::LogCategory;
  using vil::log::LogLevel;
  EXPECT_EQ(static_cast<int>(LogLevel::Trace), 0);
  EXPECT_EQ(static_cast<int>(LogLevel::Debug), 1);
  EXPECT_EQ(static_cast<int>(LogLevel::Info), 2);
  EXPECT_EQ(static_cast<int>(LogLevel::Warn), 3);
  EXPECT_EQ(static_cast<int>(LogLevel::Error), 4);
  EXPECT_EQ(static_cast<int>(LogLevel::Fatal), 5);
  EXPECT_EQ(static_cast<int>(LogCategory::Access), 0);
  EXPECT_EQ(static_cast<int>(LogCategory::App), 1);
  EXPECT_EQ(static_cast<int>(LogCategory::System), 2);
  EXPECT_EQ(static_cast<int>(LogCategory::Security), 3);
  EXPECT_EQ(static_cast<int>(LogCategory::Ai), 4);
  EXPECT_EQ(static_cast<int>(LogCategory::Db), 5);
  EXPECT_EQ(static_cast<int>(LogCategory::Mq), 6);
  using vil::log::MqOp;
  EXPECT_EQ(static_cast<int>(MqOp::Publish), 0);
  EXPECT_EQ(static_cast<int>(MqOp::Consume), 1);
  EXPECT_EQ(static_cast<int>(MqOp::Ack), 2);
  EXPECT_EQ(static_cast<int>(MqOp::Nack), 3);
  EXPECT_EQ(static_cast<int>(MqOp::Dlq), 4);
}

}  // namespace
