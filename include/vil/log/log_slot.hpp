#pragma once
// VilLogHeader and LogSlot: the 64-byte header and 256-byte record of vil_log.
// Binary compatible with the Rust crates: the layout is checked below.

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "vil/log/level.hpp"

namespace vil::log {

// A u128 as two little-endian halves: the same 16 bytes as Rust's u128 on a
// little-endian target, without relying on a compiler extension.
struct EventId {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  friend bool operator==(const EventId&, const EventId&) = default;
};

inline constexpr std::uint8_t kLogVersion = 1;

struct alignas(64) VilLogHeader {
  EventId event_id;  // unique per record within a process run
  std::uint64_t trace_id = 0;
  std::uint64_t tenant_id = 0;
  std::uint64_t process_id = 0;
  std::uint64_t timestamp_ns = 0;  // Unix epoch
  LogLevel level = LogLevel::Info;
  LogCategory category = LogCategory::App;
  std::uint8_t subcategory = 0;
  std::uint8_t version = kLogVersion;
  std::uint32_t service_hash = 0;
  std::uint32_t handler_hash = 0;
  std::uint32_t node_hash = 0;

  friend bool operator==(const VilLogHeader&, const VilLogHeader&) = default;
};

inline constexpr std::size_t kLogPayloadSize = 192;

struct alignas(64) LogSlot {
  VilLogHeader header;
  std::array<std::uint8_t, kLogPayloadSize> payload{};  // category-specific, e.g. MqPayload

  friend bool operator==(const LogSlot&, const LogSlot&) = default;
};

static_assert(sizeof(EventId) == 16);
static_assert(sizeof(VilLogHeader) == 64);
static_assert(alignof(VilLogHeader) == 64);
static_assert(offsetof(VilLogHeader, event_id) == 0);
static_assert(offsetof(VilLogHeader, trace_id) == 16);
static_assert(offsetof(VilLogHeader, tenant_id) == 24);
static_assert(offsetof(VilLogHeader, process_id) == 32);
static_assert(offsetof(VilLogHeader, timestamp_ns) == 40);
static_assert(offsetof(VilLogHeader, level) == 48);
static_assert(offsetof(VilLogHeader, category) == 49);
static_assert(offsetof(VilLogHeader, subcategory) == 50);
static_assert(offsetof(VilLogHeader, version) == 51);
static_assert(offsetof(VilLogHeader, service_hash) == 52);
static_assert(offsetof(VilLogHeader, handler_hash) == 56);
static_assert(offsetof(VilLogHeader, node_hash) == 60);
static_assert(std::is_trivially_copyable_v<VilLogHeader>);
static_assert(std::is_standard_layout_v<VilLogHeader>);

static_assert(sizeof(LogSlot) == 256);
static_assert(alignof(LogSlot) == 64);
static_assert(offsetof(LogSlot, header) == 0);
static_assert(offsetof(LogSlot, payload) == 64);
static_assert(std::is_trivially_copyable_v<LogSlot>);
static_assert(std::is_standard_layout_v<LogSlot>);

}  // namespace vil::log
