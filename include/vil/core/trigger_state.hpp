#pragma once
// TriggerState: the 32-byte counters snapshot every VIL trigger reports.

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace vil::core {

struct TriggerState {
  std::uint64_t events_fired = 0;
  std::uint64_t trigger_errors = 0;
  std::uint64_t events_dropped = 0;
  std::uint64_t last_fire_ns = 0;  // Unix epoch; 0 = never fired

  friend bool operator==(const TriggerState&, const TriggerState&) = default;
};

static_assert(sizeof(TriggerState) == 32);
static_assert(alignof(TriggerState) == 8);
static_assert(offsetof(TriggerState, events_fired) == 0);
static_assert(offsetof(TriggerState, trigger_errors) == 8);
static_assert(offsetof(TriggerState, events_dropped) == 16);
static_assert(offsetof(TriggerState, last_fire_ns) == 24);
static_assert(std::is_trivially_copyable_v<TriggerState>);
static_assert(std::is_standard_layout_v<TriggerState>);

}  // namespace vil::core
