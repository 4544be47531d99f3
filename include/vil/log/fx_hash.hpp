#pragma once
// The string hash of register_str, computed exactly as the Rust VIL crates do:
// rustc-hash 2.1 FxHasher (64-bit target) fed a byte slice the way Rust's
// `Hash for [u8]` does, i.e. write_usize(len) then write(bytes), and finish().
//
// FxHasher state h starts at 0 and absorbs a word w as h = (h + w) * K.
// write(bytes) absorbs one word: hash_bytes(bytes), a wyhash-like compression
// with its own seeds. finish() rotates h left by 26. Everything wraps mod 2^64.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vil::log {
namespace fx_detail {

inline constexpr std::uint64_t kMultiplier = 0xf1357aea2e62a9c5;
inline constexpr std::uint64_t kSeed1 = 0x243f6a8885a308d3;
inline constexpr std::uint64_t kSeed2 = 0x13198a2e03707344;
inline constexpr std::uint64_t kPreventTrivialZeroCollapse = 0xa4093822299f31d0;

// Low and high halves of the 128-bit product, folded by XOR.
constexpr std::uint64_t multiply_mix(std::uint64_t x, std::uint64_t y) noexcept {
  const std::uint64_t x_lo = x & 0xffffffffu, x_hi = x >> 32;
  const std::uint64_t y_lo = y & 0xffffffffu, y_hi = y >> 32;
  const std::uint64_t lo_lo = x_lo * y_lo;
  const std::uint64_t hi_lo = x_hi * y_lo;
  const std::uint64_t lo_hi = x_lo * y_hi;
  const std::uint64_t hi_hi = x_hi * y_hi;
  const std::uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
  const std::uint64_t low = (cross << 32) | (lo_lo & 0xffffffffu);
  const std::uint64_t high = hi_hi + (hi_lo >> 32) + (cross >> 32);
  return low ^ high;
}

constexpr std::uint64_t load_le(std::string_view bytes, std::size_t at,
                                std::size_t width) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  }
  return value;
}

constexpr std::uint64_t hash_bytes(std::string_view bytes) noexcept {
  const std::size_t len = bytes.size();
  std::uint64_t s0 = kSeed1;
  std::uint64_t s1 = kSeed2;
  if (len <= 16) {
    if (len >= 8) {
      s0 ^= load_le(bytes, 0, 8);
      s1 ^= load_le(bytes, len - 8, 8);
    } else if (len >= 4) {
      s0 ^= load_le(bytes, 0, 4);
      s1 ^= load_le(bytes, len - 4, 4);
    } else if (len > 0) {
      s0 ^= load_le(bytes, 0, 1);
      s1 ^= (load_le(bytes, len - 1, 1) << 8) | load_le(bytes, len / 2, 1);
    }
  } else {
    // 16-byte chunks of all but the last byte; the final 16 bytes (which may
    // overlap the chunks) are always mixed in below.
    for (std::size_t at = 0; len - 1 - at >= 16; at += 16) {
      const std::uint64_t x = load_le(bytes, at, 8);
      const std::uint64_t y = load_le(bytes, at + 8, 8);
      const std::uint64_t t = multiply_mix(s0 ^ x, kPreventTrivialZeroCollapse ^ y);
      s0 = s1;
      s1 = t;
    }
    s0 ^= load_le(bytes, len - 16, 8);
    s1 ^= load_le(bytes, len - 8, 8);
  }
  return multiply_mix(s0, s1) ^ static_cast<std::uint64_t>(len);
}

constexpr std::uint64_t absorb(std::uint64_t state, std::uint64_t word) noexcept {
  return (state + word) * kMultiplier;
}

}  // namespace fx_detail

// The full 64-bit finish() value (the "hash64" of the dictionary file).
constexpr std::uint64_t fx_hash64(std::string_view text) noexcept {
  std::uint64_t state = 0;
  state = fx_detail::absorb(state, static_cast<std::uint64_t>(text.size()));
  state = fx_detail::absorb(state, fx_detail::hash_bytes(text));
  return (state << 26) | (state >> 38);
}

// The 32-bit hash VIL records carry: fx_hash64 truncated. Does not register.
constexpr std::uint32_t fx_hash32(std::string_view text) noexcept {
  return static_cast<std::uint32_t>(fx_hash64(text));
}

static_assert(fx_hash32("cdc") == 0x76f33000u);

}  // namespace vil::log
