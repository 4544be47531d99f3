#pragma once
// MqPayload: the 192-byte payload of an Mq-category LogSlot.
// Binary compatible with the Rust crates: the layout is checked below.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "vil/log/log_slot.hpp"

namespace vil::log {

enum class MqOp : std::uint8_t {
  Publish = 0,
  Consume = 1,
  Ack = 2,
  Nack = 3,
  Dlq = 4,
};

// Lower-case name; an empty view for a value outside the enum.
constexpr std::string_view to_string(MqOp op) noexcept {
  switch (op) {
    case MqOp::Publish:
      return "publish";
    case MqOp::Consume:
      return "consume";
    case MqOp::Ack:
      return "ack";
    case MqOp::Nack:
      return "nack";
    case MqOp::Dlq:
      return "dlq";
  }
  return {};
}

struct MqPayload {
  std::uint32_t broker_hash = 0;
  std::uint32_t topic_hash = 0;
  std::uint32_t group_hash = 0;
  std::uint32_t reserved0 = 0;  // explicit padding: records are compared and copied bytewise
  std::uint64_t offset = 0;
  std::uint32_t message_bytes = 0;
  std::uint32_t reserved1 = 0;
  std::uint64_t e2e_latency_ns = 0;
  MqOp op_type = MqOp::Publish;
  std::uint8_t partition = 0;
  std::uint8_t retries = 0;
  std::uint8_t compression = 0;
  std::array<std::uint8_t, 148> meta_bytes{};

  friend bool operator==(const MqPayload&, const MqPayload&) = default;
};

static_assert(sizeof(MqPayload) == kLogPayloadSize);
static_assert(alignof(MqPayload) == 8);
static_assert(offsetof(MqPayload, broker_hash) == 0);
static_assert(offsetof(MqPayload, topic_hash) == 4);
static_assert(offsetof(MqPayload, group_hash) == 8);
static_assert(offsetof(MqPayload, offset) == 16);
static_assert(offsetof(MqPayload, message_bytes) == 24);
static_assert(offsetof(MqPayload, e2e_latency_ns) == 32);
static_assert(offsetof(MqPayload, op_type) == 40);
static_assert(offsetof(MqPayload, partition) == 41);
static_assert(offsetof(MqPayload, retries) == 42);
static_assert(offsetof(MqPayload, compression) == 43);
static_assert(offsetof(MqPayload, meta_bytes) == 44);
static_assert(std::is_trivially_copyable_v<MqPayload>);
static_assert(std::is_standard_layout_v<MqPayload>);

// The payload bytes of a slot seen as an MqPayload, and back.
constexpr MqPayload as_mq_payload(const LogSlot& slot) noexcept {
  return std::bit_cast<MqPayload>(slot.payload);
}
constexpr std::array<std::uint8_t, kLogPayloadSize> to_payload_bytes(
    const MqPayload& payload) noexcept {
  return std::bit_cast<std::array<std::uint8_t, kLogPayloadSize>>(payload);
}

}  // namespace vil::log
