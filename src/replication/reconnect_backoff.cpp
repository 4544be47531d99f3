#include "reconnect_backoff.hpp"

#include <algorithm>

namespace vil::replication {

std::chrono::milliseconds backoff_delay(const ReconnectPolicy& policy, uint32_t attempt,
                                        double jitter) {
  const double max = static_cast<double>(policy.max_backoff.count());
  double delay = static_cast<double>(policy.initial_backoff.count());
  for (uint32_t i = 1; i < attempt && delay < max; ++i) delay *= 2;
  delay = std::clamp(delay * jitter, 1.0, std::max(max, 1.0));
  return std::chrono::milliseconds(static_cast<int64_t>(delay));
}

std::optional<ReconnectState::Next> ReconnectState::after_lost_session(
    bool streamed, bool received_data, std::chrono::steady_clock::duration age) {
  if (streamed && (received_data || age >= kHealthySessionAge)) failed_attempts_ = 0;
  ++failed_attempts_;
  if (policy_.max_attempts != 0 && failed_attempts_ > policy_.max_attempts) return std::nullopt;
  std::uniform_real_distribution<double> spread(0.8, 1.2);
  return Next{failed_attempts_, backoff_delay(policy_, failed_attempts_, spread(jitter_))};
}

}  // namespace vil::replication
