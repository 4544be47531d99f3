// Character classes as PostgreSQL's input functions see them (ASCII only, no locale).
#pragma once

#include <cstddef>
#include <string_view>

namespace vil::values::detail {

constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// scanner_isspace(): what PostgreSQL's input functions skip around a value.
constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

constexpr char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
}

// -1 when `c` is not a hexadecimal digit.
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr bool iequals(std::string_view a, std::string_view lower) noexcept {
  if (a.size() != lower.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != lower[i]) return false;
  }
  return true;
}

// Offsets of the first and one-past-last non-space characters.
struct Trimmed {
  std::size_t begin;
  std::size_t end;
};
constexpr Trimmed trim(std::string_view s) noexcept {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return {b, e};
}

}  // namespace vil::values::detail
