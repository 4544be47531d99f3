#pragma once
// TriggerConfig: the settings every VIL trigger shares. Layer-specific options
// (e.g. CdcConfig) live next to their trigger.

#include <cstdint>
#include <string>

#include "vil/core/trigger_kind.hpp"

namespace vil::core {

struct TriggerConfig {
  std::uint64_t id = 0;
  TriggerKind kind = TriggerKind::Custom;
  bool enabled = true;
  std::string label;  // for people: shown in logs and errors

  friend bool operator==(const TriggerConfig&, const TriggerConfig&) = default;
};

}  // namespace vil::core
