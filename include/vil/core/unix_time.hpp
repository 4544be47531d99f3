#pragma once
// The wall clock as every layer stamps it: nanoseconds since the Unix epoch,
// the unit of TriggerEvent::timestamp_ns, TriggerState::last_fire_ns and the
// log header's timestamp_ns (docs/DESIGN.md §2). Inline: mq_log and the
// delivery thread read it for every change.

#include <chrono>
#include <cstdint>

namespace vil::core {

[[nodiscard]] inline std::uint64_t unix_now_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace vil::core
