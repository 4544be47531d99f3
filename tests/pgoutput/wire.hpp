#pragma once
// Builds pgoutput messages and replication frames byte by byte, in network
// order, for hand-made test inputs.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace vil::pgoutput::testing {

class Wire {
 public:
  Wire() = default;
  explicit Wire(char type) { u8(static_cast<std::uint8_t>(type)); }

  Wire& u8(std::uint8_t v) {
    bytes_.push_back(std::byte{v});
    return *this;
  }
  Wire& ch(char c) { return u8(static_cast<std::uint8_t>(c)); }
  Wire& u16(std::uint16_t v) { return be(v, 2); }
  Wire& u32(std::uint32_t v) { return be(v, 4); }
  Wire& i32(std::int32_t v) { return be(static_cast<std::uint32_t>(v), 4); }
  Wire& u64(std::uint64_t v) { return be(v, 8); }
  Wire& i64(std::int64_t v) { return be(static_cast<std::uint64_t>(v), 8); }
  // A String: the bytes and a NUL.
  Wire& str(std::string_view s) { return raw(s).u8(0); }
  Wire& raw(std::string_view s) {
    for (const char c : s) ch(c);
    return *this;
  }
  Wire& raw(std::span<const std::byte> b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }

  // TupleData pieces.
  Wire& columns(std::uint16_t count) { return u16(count); }
  Wire& text(std::string_view s) {
    ch('t').u32(static_cast<std::uint32_t>(s.size()));
    return raw(s);
  }
  Wire& binary(std::string_view s) {
    ch('b').u32(static_cast<std::uint32_t>(s.size()));
    return raw(s);
  }
  Wire& null() { return ch('n'); }
  Wire& toast() { return ch('u'); }

  [[nodiscard]] std::span<const std::byte> span() const { return bytes_; }
  [[nodiscard]] const std::vector<std::byte>& bytes() const { return bytes_; }
  [[nodiscard]] std::size_t size() const { return bytes_.size(); }

 private:
  Wire& be(std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i)
      bytes_.push_back(std::byte{static_cast<std::uint8_t>(v >> (8 * i))});
    return *this;
  }
  std::vector<std::byte> bytes_;
};

}  // namespace vil::pgoutput::testing
