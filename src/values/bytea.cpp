#include "bytea.hpp"

#include "scan.hpp"

namespace vil::values::detail {
namespace {

constexpr bool is_octal(char c) noexcept {
  return c >= '0' && c <= '7';
}

}  // namespace

Parsed<std::size_t> scan_bytea(std::string_view s) noexcept {
  if (is_hex_bytea(s)) {
    // byteain() lets whitespace separate (not split) the digit pairs.
    std::size_t count = 0;
    std::size_t i = 2;
    while (i < s.size()) {
      if (is_space(s[i])) {
        ++i;
        continue;
      }
      if (hex_value(s[i]) < 0) return syntax(i, "has an invalid hexadecimal digit");
      if (i + 1 >= s.size()) return syntax(i, "has an odd number of hexadecimal digits");
      if (hex_value(s[i + 1]) < 0) return syntax(i + 1, "has an invalid hexadecimal digit");
      i += 2;
      ++count;
    }
    return count;
  }
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++count) {
    if (s[i] != '\\') {
      ++i;
    } else if (i + 1 < s.size() && s[i + 1] == '\\') {
      i += 2;
    } else if (i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && is_octal(s[i + 2]) &&
               is_octal(s[i + 3])) {
      i += 4;
    } else {
      return syntax(i, "has an invalid escape (\\\\ or \\ooo) for bytea");
    }
  }
  return count;
}

void decode_bytea(std::string_view s, std::byte* out) noexcept {
  if (is_hex_bytea(s)) {
    for (std::size_t i = 2; i < s.size();) {
      if (is_space(s[i])) {
        ++i;
        continue;
      }
      *out++ = static_cast<std::byte>(hex_value(s[i]) * 16 + hex_value(s[i + 1]));
      i += 2;
    }
    return;
  }
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '\\') {
      *out++ = static_cast<std::byte>(s[i]);
      ++i;
    } else if (s[i + 1] == '\\') {
      *out++ = std::byte{'\\'};
      i += 2;
    } else {
      *out++ =
          static_cast<std::byte>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 4;
    }
  }
}

}  // namespace vil::values::detail
