#pragma once
// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF). Names and prefixes are checked by the decoder; column values by
// the value layer (values::convert), with the offset of the first bad byte.

#include <cstddef>
#include <span>
#include <string_view>

namespace vil::pgoutput {

// Offset of the first byte of the first ill-formed (or cut short) sequence,
// or bytes.size() when all of it is UTF-8.
[[nodiscard]] std::size_t find_invalid_utf8(std::span<const std::byte> bytes) noexcept;

[[nodiscard]] inline std::size_t find_invalid_utf8(std::string_view text) noexcept {
  return find_invalid_utf8(std::as_bytes(std::span(text.data(), text.size())));
}

[[nodiscard]] inline bool is_valid_utf8(std::span<const std::byte> bytes) noexcept {
  return find_invalid_utf8(bytes) == bytes.size();
}

[[nodiscard]] inline bool is_valid_utf8(std::string_view text) noexcept {
  return find_invalid_utf8(text) == text.size();
}

}  // namespace vil::pgoutput
