#pragma once
// TriggerKind: which family of VIL trigger a source belongs to (vil_trigger_core).

#include <cstdint>
#include <string_view>

namespace vil::core {

// The numbers are part of the wire contract shared with the Rust crates.
enum class TriggerKind : std::uint8_t {
  Cron = 0,
  Fs = 1,
  Cdc = 2,
  Webhook = 3,
  Email = 4,
  Iot = 5,
  Evm = 6,
  Custom = 255,
};

// Lower-case name ("cdc"); the same word a source's kind() returns. Unknown
// values (a byte read from elsewhere) give "unknown".
constexpr std::string_view to_string(TriggerKind kind) noexcept {
  switch (kind) {
    case TriggerKind::Cron:
      return "cron";
    case TriggerKind::Fs:
      return "fs";
    case TriggerKind::Cdc:
      return "cdc";
    case TriggerKind::Webhook:
      return "webhook";
    case TriggerKind::Email:
      return "email";
    case TriggerKind::Iot:
      return "iot";
    case TriggerKind::Evm:
      return "evm";
    case TriggerKind::Custom:
      return "custom";
  }
  return "unknown";
}

static_assert(sizeof(TriggerKind) == 1);

}  // namespace vil::core
