// Eight bytes at a time: finds the bytes a JSON string cannot carry as they are.
#pragma once

#include <cstdint>
#include <cstring>

namespace vil::values::detail {

inline uint64_t load8(const unsigned char* p) noexcept {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// Nonzero when one of the 8 bytes is a control character (< 0x20), '"', '\\', or not ASCII
// (>= 0x80). The classic "has zero / has less" bit tricks: exact as a yes/no answer.
inline uint64_t json_special_bytes(uint64_t w) noexcept {
  constexpr uint64_t k01 = 0x0101010101010101ULL;
  constexpr uint64_t k80 = 0x8080808080808080ULL;
  const uint64_t control = (w - k01 * 0x20) & ~w & k80;
  const uint64_t q = w ^ (k01 * '"');
  const uint64_t quote = (q - k01) & ~q & k80;
  const uint64_t b = w ^ (k01 * '\\');
  const uint64_t backslash = (b - k01) & ~b & k80;
  return control | quote | backslash | (w & k80);
}

}  // namespace vil::values::detail
