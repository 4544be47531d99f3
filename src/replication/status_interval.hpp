#pragma once
// How often the I/O thread sends a standby status update.

#include <chrono>
#include <cstdint>

namespace vil::replication {

// Below this the updates would cost more than they tell the server.
inline constexpr std::chrono::milliseconds kMinStatusInterval{10};

// The configured interval, but at most half of the server's
// wal_sender_timeout (0: the server never times us out) so that it never
// drops us, and at least kMinStatusInterval unless even that is more than
// half the timeout: the half always wins.
std::chrono::milliseconds status_interval(std::chrono::milliseconds configured,
                                          int64_t wal_sender_timeout_ms);

}  // namespace vil::replication
