#pragma once
// Unix nanoseconds as the UTC time stamp of the JSON lines:
// "2026-11-24T01:05:00.123456Z", always 27 characters (microseconds, rounded
// down; every int64 nanosecond count falls in years 1677 to 2262).

#include <array>
#include <cstdint>
#include <string_view>

namespace vil::output::detail {

inline constexpr std::size_t kUtcMicrosSize = 27;

void format_utc_micros(std::int64_t unix_ns, char* out) noexcept;

// Formats once per distinct time: a transaction's changes share their commit time.
class UtcMicrosCache {
 public:
  [[nodiscard]] std::string_view text(std::int64_t unix_ns) noexcept {
    if (!valid_ || unix_ns != ns_) {
      format_utc_micros(unix_ns, chars_.data());
      ns_ = unix_ns;
      valid_ = true;
    }
    return {chars_.data(), chars_.size()};
  }

 private:
  std::int64_t ns_ = 0;
  bool valid_ = false;
  std::array<char, kUtcMicrosSize> chars_{};
};

}  // namespace vil::output::detail
