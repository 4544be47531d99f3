#pragma once
// How long to wait before reconnect attempt n: exponential from the initial
// backoff, with jitter, never past the maximum; and when a session was good
// enough for the count of failed attempts to start over.

#include <chrono>
#include <cstdint>

#include "vil/cdc/cdc_config.hpp"

namespace vil::replication {

// initial * 2^(attempt-1), times `jitter` (the caller draws it from
// [0.8, 1.2] so that many consumers of one restarted server do not come back
// at once), then capped at max_backoff: the cap holds whatever the jitter.
std::chrono::milliseconds backoff_delay(const cdc::ReconnectPolicy& policy, uint32_t attempt,
                                        double jitter);

// A session that ends this soon without having received any change was not a
// success: a server that drops every connection right after
// START_REPLICATION must still see the backoff grow.
inline constexpr std::chrono::seconds kHealthySessionAge{10};

}  // namespace vil::replication
