#pragma once
// What /healthz answers, decided here alone: healthy while the stream is
// connected and its status updates go through; not while it connects or
// reconnects, while the destination has held it back longer than the limit,
// once the server invalidated the slot, or after a fault ended the run.

#include <chrono>
#include <optional>
#include <string>

#include "vil/cdc/trigger_metrics.hpp"

namespace vil::cli {

struct Health {
  bool healthy = false;
  std::string reason;  // one line: "ok", or why not
};

Health judge_health(const cdc::TriggerMetrics& metrics, const std::string& slot_name,
                    std::chrono::milliseconds max_backpressure,
                    const std::optional<std::string>& fault);

}  // namespace vil::cli
