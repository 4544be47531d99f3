#include "health.hpp"

#include <fmt/format.h>

namespace vil::cli {

Health judge_health(const cdc::TriggerMetrics& metrics, const std::string& slot_name,
                    std::chrono::milliseconds max_backpressure,
                    const std::optional<std::string>& fault) {
  if (fault) return {false, "stopped: " + *fault};
  if (metrics.slot.wal_status == "lost") {
    return {false,
            fmt::format("slot \"{}\" was invalidated by the server (wal_status lost)", slot_name)};
  }
  if (!metrics.connected) {
    return {false, fmt::format("not streaming from slot \"{}\": connecting or reconnecting to "
                               "the server",
                               slot_name)};
  }
  const double limit = std::chrono::duration<double>(max_backpressure).count();
  if (metrics.sink_backpressure_seconds > limit) {
    return {false, fmt::format("the destination has held the stream back for {:.1f} s "
                               "(limit {:g} s): its in-flight window is full",
                               metrics.sink_backpressure_seconds, limit)};
  }
  return {true, "ok"};
}

}  // namespace vil::cli
