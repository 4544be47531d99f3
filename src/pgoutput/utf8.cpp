#include "vil/pgoutput/utf8.hpp"

#include <cstdint>
#include <cstring>

#include "vil/pgoutput/utf8_sequence.hpp"

namespace vil::pgoutput {
namespace {

constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

std::uint64_t load8(const std::uint8_t* p) noexcept {
  std::uint64_t word = 0;
  std::memcpy(&word, p, sizeof word);
  return word;
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
      if (((load8(p) | load8(p + 8)) & kHighBits) != 0) break;
      p += 16;
    }
    // Column values are short, so mostly such tails: 8 bytes more, then the
    // last 8 (overlapping what was checked) when fewer are left.
    if (end - p >= 8 && (load8(p) & kHighBits) == 0) p += 8;
    if (p == end) break;
    if (end - p < 8 && end - begin >= 8 && (load8(end - 8) & kHighBits) == 0) break;
    if (*p < 0x80) {
      ++p;
      continue;
    }
    // A bad sequence, or one cut short by the end, is reported at its lead byte.
    std::size_t bad = 0;
    const std::size_t length = utf8_sequence(p, end, &bad);
    if (length == 0) return here();
    p += length;
  }
  return bytes.size();
}

}  // namespace vil::pgoutput
