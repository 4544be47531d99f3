#pragma once
// A WAL position, and its text form as PostgreSQL writes it: two upper-case hex
// numbers, high and low 32 bits, without zero padding ("0/1A2B3C4").

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vil::pgoutput {

struct Lsn {
  std::uint64_t value = 0;

  // PostgreSQL's InvalidXLogRecPtr is 0.
  [[nodiscard]] constexpr bool valid() const noexcept { return value != 0; }
  friend constexpr auto operator<=>(Lsn, Lsn) noexcept = default;
};

// The text of an LSN without allocating: at most "FFFFFFFF/FFFFFFFF".
struct LsnText {
  std::array<char, 17> chars{};
  std::uint8_t size = 0;

  [[nodiscard]] std::string_view view() const noexcept { return {chars.data(), size}; }
};

[[nodiscard]] LsnText format_lsn(Lsn lsn) noexcept;
[[nodiscard]] std::string to_string(Lsn lsn);

// Accepts what PostgreSQL's pg_lsn input accepts: 1 to 8 hex digits (either
// case), '/', 1 to 8 hex digits, nothing else.
[[nodiscard]] std::optional<Lsn> parse_lsn(std::string_view text) noexcept;

}  // namespace vil::pgoutput
