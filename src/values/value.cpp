#include "vil/values/value.hpp"

#include <algorithm>

#include "bytea.hpp"
#include "scan.hpp"
#include "uuid.hpp"

namespace vil::values {

bool Numeric::is_nan() const noexcept {
  return detail::iequals(text, "nan");
}

bool Numeric::is_infinite() const noexcept {
  std::string_view s = text;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  return detail::iequals(s, "infinity") || detail::iequals(s, "inf");
}

std::size_t Bytea::size() const noexcept {
  const auto n = detail::scan_bytea(text);
  return n ? *n : 0;
}

void Bytea::decode(std::span<std::byte> out) const noexcept {
  if (out.size() >= size()) detail::decode_bytea(text, out.data());
}

std::vector<std::byte> Bytea::bytes() const {
  std::vector<std::byte> out(size());
  detail::decode_bytea(text, out.data());
  return out;
}

std::string Uuid::to_string() const {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 15]);
  }
  return out;
}

bool operator==(const Array& a, const Array& b) {
  if (a.element_oid() != b.element_oid()) return false;
  const auto da = a.dimensions();
  const auto db = b.dimensions();
  if (!std::equal(da.begin(), da.end(), db.begin(), db.end())) return false;
  const auto ea = a.elements();
  const auto eb = b.elements();
  return std::equal(ea.begin(), ea.end(), eb.begin(), eb.end());
}

namespace detail {

Parsed<Uuid> parse_uuid(std::string_view s) noexcept {
  constexpr std::string_view kWhat = "is not a UUID";
  Uuid u;
  std::size_t i = 0;
  const bool braced = !s.empty() && s[0] == '{';
  if (braced) ++i;
  for (std::size_t b = 0; b < 16; ++b) {
    if (i + 1 >= s.size()) return syntax(i, kWhat);
    const int hi = hex_value(s[i]);
    const int lo = hex_value(s[i + 1]);
    if (hi < 0) return syntax(i, kWhat);
    if (lo < 0) return syntax(i + 1, kWhat);
    u.bytes[b] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
    if (b % 2 == 1 && b < 15 && i < s.size() && s[i] == '-') ++i;
  }
  if (braced) {
    if (i >= s.size() || s[i] != '}') return syntax(i, kWhat);
    ++i;
  }
  if (i != s.size()) return syntax(i, kWhat);
  return u;
}

}  // namespace detail
}  // namespace vil::values
