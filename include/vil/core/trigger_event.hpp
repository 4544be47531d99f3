#pragma once
// TriggerEvent: the 32-byte descriptor on the Trigger lane (vil_trigger_core).
// Binary compatible with the Rust crates: the layout is checked below.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace vil::core {

enum class TriggerOp : std::uint8_t {
  Fire = 0,
  PauseAck = 1,
  ResumeAck = 2,
  StopAck = 3,
};

constexpr std::string_view to_string(TriggerOp op) noexcept {
  switch (op) {
    case TriggerOp::Fire:
      return "fire";
    case TriggerOp::PauseAck:
      return "pause_ack";
    case TriggerOp::ResumeAck:
      return "resume_ack";
    case TriggerOp::StopAck:
      return "stop_ack";
  }
  return "unknown";
}

struct TriggerEvent {
  std::uint32_t kind_hash = 0;     // register_str of the trigger kind ("cdc")
  std::uint32_t source_hash = 0;   // register_str of the source's name (slot name)
  std::uint64_t sequence = 0;      // monotonic per trigger instance; never reset or reused
  std::uint64_t timestamp_ns = 0;  // Unix epoch
  std::uint32_t payload_bytes = 0;
  TriggerOp op = TriggerOp::Fire;
  // Explicit so that copies of the 32 bytes are fully defined (zero).
  std::uint8_t reserved[3] = {0, 0, 0};

  friend bool operator==(const TriggerEvent&, const TriggerEvent&) = default;
};

static_assert(sizeof(TriggerEvent) == 32);
static_assert(alignof(TriggerEvent) == 8);
static_assert(offsetof(TriggerEvent, kind_hash) == 0);
static_assert(offsetof(TriggerEvent, source_hash) == 4);
static_assert(offsetof(TriggerEvent, sequence) == 8);
static_assert(offsetof(TriggerEvent, timestamp_ns) == 16);
static_assert(offsetof(TriggerEvent, payload_bytes) == 24);
static_assert(offsetof(TriggerEvent, op) == 28);
static_assert(std::is_trivially_copyable_v<TriggerEvent>);
static_assert(std::is_standard_layout_v<TriggerEvent>);

}  // namespace vil::core
