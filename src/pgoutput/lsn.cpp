#include "vil/pgoutput/lsn.hpp"

namespace vil::pgoutput {
namespace {

// Upper-case hex without leading zeros ("0" for zero).
char* put_hex(char* out, std::uint32_t v) noexcept {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  int shift = 28;
  while (shift > 0 && ((v >> shift) & 0xFU) == 0) shift -= 4;
  for (; shift >= 0; shift -= 4) *out++ = kDigits[(v >> shift) & 0xFU];
  return out;
}

// 1 to 8 hex digits from `text` starting at `pos`; advances `pos`.
std::optional<std::uint32_t> take_hex(std::string_view text, std::size_t& pos) noexcept {
  std::uint32_t v = 0;
  const std::size_t start = pos;
  while (pos < text.size() && pos - start < 9) {
    const char c = text[pos];
    std::uint32_t d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<std::uint32_t>(c - 'A' + 10);
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<std::uint32_t>(c - 'a' + 10);
    } else {
      break;
    }
    v = (v << 4) | d;
    ++pos;
  }
  const std::size_t count = pos - start;
  if (count == 0 || count > 8) return std::nullopt;
  return v;
}

}  // namespace

LsnText format_lsn(Lsn lsn) noexcept {
  LsnText text;
  char* out = put_hex(text.chars.data(), static_cast<std::uint32_t>(lsn.value >> 32));
  *out++ = '/';
  out = put_hex(out, static_cast<std::uint32_t>(lsn.value));
  text.size = static_cast<std::uint8_t>(out - text.chars.data());
  return text;
}

std::string to_string(Lsn lsn) {
  return std::string(format_lsn(lsn).view());
}

std::optional<Lsn> parse_lsn(std::string_view text) noexcept {
  std::size_t pos = 0;
  const auto high = take_hex(text, pos);
  if (!high || pos >= text.size() || text[pos] != '/') return std::nullopt;
  ++pos;
  const auto low = take_hex(text, pos);
  if (!low || pos != text.size()) return std::nullopt;
  return Lsn{(std::uint64_t{*high} << 32) | *low};
}

}  // namespace vil::pgoutput
