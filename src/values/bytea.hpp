// bytea's text forms: hex ("\x0aff", the default bytea_output) and escape ("a\\000b").
#pragma once

#include <cstddef>
#include <string_view>

#include "failure.hpp"

namespace vil::values::detail {

// Validates `text` and returns the number of bytes it decodes to.
Parsed<std::size_t> scan_bytea(std::string_view text) noexcept;

// Decodes text that scan_bytea() accepted; `out` has room for its size.
void decode_bytea(std::string_view text, std::byte* out) noexcept;

// Whether the text is in the hex form ("\x" prefix).
constexpr bool is_hex_bytea(std::string_view text) noexcept {
  return text.size() >= 2 && text[0] == '\\' && text[1] == 'x';
}

}  // namespace vil::values::detail
