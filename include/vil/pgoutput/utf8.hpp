#pragma once
// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF). Names and prefixes are checked by the decoder; column values are
// left to the value layer, which can call this on demand.

#include <cstddef>
#include <span>
#include <string_view>

namespace vil::pgoutput {

[[nodiscard]] bool is_valid_utf8(std::span<const std::byte> bytes) noexcept;

[[nodiscard]] inline bool is_valid_utf8(std::string_view text) noexcept {
  return is_valid_utf8(std::as_bytes(std::span(text.data(), text.size())));
}

}  // namespace vil::pgoutput
