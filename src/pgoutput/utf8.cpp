#include "vil/pgoutput/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace vil::pgoutput {
namespace {

constexpr std::uint64_t high_bits = 0x8080808080808080ULL;

std::uint64_t load8(const std::uint8_t* p) noexcept {
  std::uint64_t word = 0;
  std::memcpy(&word, p, sizeof word);
  return word;
}

bool is_continuation(std::uint8_t b) noexcept {
  return (b & 0xC0U) == 0x80U;
}

}  // namespace

std::size_t find_invalid_utf8(std::span<const std::byte> bytes) noexcept {
  const auto* const begin = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const std::uint8_t* p = begin;
  const std::uint8_t* const end = p + bytes.size();
  const auto here = [&] { return static_cast<std::size_t>(p - begin); };
  while (p < end) {
    // Names and most text are ASCII: skip 16 bytes at a time while they are.
    while (end - p >= 16) {
      if (((load8(p) | load8(p + 8)) & high_bits) != 0) break;
      p += 16;
    }
    // Column values are short, so mostly such tails: 8 bytes more, then the
    // last 8 (overlapping what was checked) when fewer are left.
    if (end - p >= 8 && (load8(p) & high_bits) == 0) p += 8;
    if (p == end) break;
    if (end - p < 8 && end - begin >= 8 && (load8(end - 8) & high_bits) == 0) break;
    const std::uint8_t lead = *p;
    if (lead < 0x80) {
      ++p;
      continue;
    }
    // Sequence length and the range of the second byte (RFC 3629's table):
    // this excludes overlong forms, surrogates and code points past U+10FFFF.
    std::size_t length = 0;
    std::uint8_t low = 0x80;
    std::uint8_t high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead == 0xE0) {
      length = 3;
      low = 0xA0;
    } else if (lead >= 0xE1 && lead <= 0xEC) {
      length = 3;
    } else if (lead == 0xED) {
      length = 3;
      high = 0x9F;
    } else if (lead >= 0xEE && lead <= 0xEF) {
      length = 3;
    } else if (lead == 0xF0) {
      length = 4;
      low = 0x90;
    } else if (lead >= 0xF1 && lead <= 0xF3) {
      length = 4;
    } else if (lead == 0xF4) {
      length = 4;
      high = 0x8F;
    } else {
      return here();
    }
    // A bad sequence, or one cut short by the end, is reported at its lead byte.
    if (static_cast<std::size_t>(end - p) < length) return here();
    if (p[1] < low || p[1] > high) return here();
    for (std::size_t i = 2; i < length; ++i) {
      if (!is_continuation(p[i])) return here();
    }
    p += length;
  }
  return bytes.size();
}

}  // namespace vil::pgoutput
