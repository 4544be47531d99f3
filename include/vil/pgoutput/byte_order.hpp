#pragma once
// Network byte order loads and stores; memcpy keeps them free of alignment and
// aliasing assumptions, and compiles to one load plus a byte swap.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vil::pgoutput {

template <typename T>
[[nodiscard]] inline T load_be(const std::byte* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) v = std::byteswap(v);
  return v;
}

template <typename T>
inline void store_be(std::byte* p, T v) noexcept {
  if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) v = std::byteswap(v);
  std::memcpy(p, &v, sizeof v);
}

}  // namespace vil::pgoutput
