#include "replication/reconnect_backoff.hpp"

#include <algorithm>

namespace vil::replication {

std::chrono::milliseconds backoff_delay(const cdc::ReconnectPolicy& policy, uint32_t attempt,
                                        double jitter) {
  const double max = static_cast<double>(policy.max_backoff.count());
  double delay = static_cast<double>(policy.initial_backoff.count());
  for (uint32_t i = 1; i < attempt && delay < max; ++i) delay *= 2;
  delay = std::clamp(delay * jitter, 1.0, std::max(max, 1.0));
  return std::chrono::milliseconds(static_cast<int64_t>(delay));
}

}  // namespace vil::replication
