#pragma once
// PostgreSQL timestamps on the wire: signed microseconds since 2000-01-01 UTC.

#include <cstdint>
#include <limits>

namespace vil::pgoutput {

// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00:00 UTC).
inline constexpr std::int64_t kPgEpochUnixMicros = 946'684'800'000'000;

struct PgTimestamp {
  std::int64_t micros = 0;  // since 2000-01-01 UTC

  // Nanoseconds since the Unix epoch, saturated at the int64 limits (the wire
  // can carry any value, and far timestamps like 'infinity' must not overflow).
  [[nodiscard]] constexpr std::int64_t unix_ns() const noexcept {
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
    if (micros > kMax / 1000 - kPgEpochUnixMicros) return kMax;
    if (micros < kMin / 1000 - kPgEpochUnixMicros) return kMin;
    return (micros + kPgEpochUnixMicros) * 1000;
  }

  // The PostgreSQL timestamp of a Unix time in nanoseconds (rounded down to
  // the microsecond), e.g. for the standby status update's clock.
  [[nodiscard]] static constexpr PgTimestamp from_unix_ns(std::int64_t ns) noexcept {
    std::int64_t us = ns / 1000;
    if (ns % 1000 < 0) --us;
    return PgTimestamp{us - kPgEpochUnixMicros};
  }

  friend constexpr auto operator<=>(PgTimestamp, PgTimestamp) noexcept = default;
};

}  // namespace vil::pgoutput
