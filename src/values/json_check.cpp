// The check that json/jsonb text is one complete, strictly valid JSON value before the writer
// embeds it: without it a damaged value would make the whole output line unparsable.
#include <array>
#include <cstdint>

#include "vil/pgoutput/utf8_sequence.hpp"
#include "scan.hpp"
#include "swar.hpp"
#include "vil/values/json_writer.hpp"

namespace vil::values {
namespace {

using detail::hex_value;
using detail::is_digit;

// Nesting deeper than this is reported as not valid, so the writer keeps such a value as a
// string; PostgreSQL's own stack limit stops jsonb nesting at a few thousand levels.
constexpr std::size_t kMaxDepth = 4096;

struct Reader {
  const unsigned char* p;
  const unsigned char* end;

  void skip_ws() noexcept {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  }

  bool literal(const char* word, std::size_t n) noexcept {
    if (static_cast<std::size_t>(end - p) < n) return false;
    for (std::size_t i = 0; i < n; ++i) {
      if (p[i] != static_cast<unsigned char>(word[i])) return false;
    }
    p += n;
    return true;
  }

  bool hex4(uint32_t* v) noexcept {
    if (end - p < 4) return false;
    uint32_t r = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex_value(static_cast<char>(p[i]));
      if (h < 0) return false;
      r = r * 16 + static_cast<uint32_t>(h);
    }
    p += 4;
    *v = r;
    return true;
  }

  // At the opening quote.
  bool string() noexcept {
    ++p;
    for (;;) {
      while (end - p >= 8 && detail::json_special_bytes(detail::load8(p)) == 0) p += 8;
      if (p >= end) return false;
      const unsigned char c = *p;
      if (c == '"') {
        ++p;
        return true;
      }
      if (c == '\\') {
        ++p;
        if (p >= end) return false;
        switch (*p++) {
          case '"':
          case '\\':
          case '/':
          case 'b':
          case 'f':
          case 'n':
          case 'r':
          case 't':
            break;
          case 'u': {
            uint32_t cp;
            if (!hex4(&cp)) return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // lone low surrogate
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              uint32_t low;
              if (end - p < 2 || p[0] != '\\' || p[1] != 'u') return false;
              p += 2;
              if (!hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
            }
            break;
          }
          default:
            return false;
        }
      } else if (c < 0x20) {
        return false;
      } else if (c >= 0x80) {
        std::size_t bad;
        const std::size_t n = pgoutput::utf8_sequence(p, end, &bad);
        if (n == 0) return false;
        p += n;
      } else {
        ++p;
      }
    }
  }

  bool number() noexcept {
    if (p < end && *p == '-') ++p;
    if (p >= end) return false;
    if (*p == '0') {
      ++p;
    } else if (is_digit(static_cast<char>(*p))) {
      while (p < end && is_digit(static_cast<char>(*p))) ++p;
    } else {
      return false;
    }
    if (p < end && *p == '.') {
      ++p;
      const unsigned char* f = p;
      while (p < end && is_digit(static_cast<char>(*p))) ++p;
      if (p == f) return false;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
      ++p;
      if (p < end && (*p == '+' || *p == '-')) ++p;
      const unsigned char* e = p;
      while (p < end && is_digit(static_cast<char>(*p))) ++p;
      if (p == e) return false;
    }
    return true;
  }
};

}  // namespace

bool is_valid_json(std::string_view text) noexcept {
  const auto* begin = reinterpret_cast<const unsigned char*>(text.data());
  Reader r{begin, begin + text.size()};
  std::array<uint64_t, kMaxDepth / 64> is_object{};  // one bit per open container
  std::size_t depth = 0;
  auto push = [&](bool object) {
    if (depth == kMaxDepth) return false;
    const uint64_t bit = uint64_t{1} << (depth % 64);
    if (object) {
      is_object[depth / 64] |= bit;
    } else {
      is_object[depth / 64] &= ~bit;
    }
    ++depth;
    return true;
  };
  auto top_is_object = [&] { return (is_object[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1; };
  // After '{' or ',' in an object: a key and its colon.
  auto member_key = [&] {
    r.skip_ws();
    if (r.p >= r.end || *r.p != '"' || !r.string()) return false;
    r.skip_ws();
    if (r.p >= r.end || *r.p != ':') return false;
    ++r.p;
    return true;
  };

  for (;;) {
    // A value is expected here.
    r.skip_ws();
    if (r.p >= r.end) return false;
    switch (*r.p) {
      case '{':
        ++r.p;
        if (!push(true)) return false;
        r.skip_ws();
        if (r.p < r.end && *r.p == '}') {
          ++r.p;
          --depth;
          break;
        }
        if (!member_key()) return false;
        continue;
      case '[':
        ++r.p;
        if (!push(false)) return false;
        r.skip_ws();
        if (r.p < r.end && *r.p == ']') {
          ++r.p;
          --depth;
          break;
        }
        continue;
      case '"':
        if (!r.string()) return false;
        break;
      case 't':
        if (!r.literal("true", 4)) return false;
        break;
      case 'f':
        if (!r.literal("false", 5)) return false;
        break;
      case 'n':
        if (!r.literal("null", 4)) return false;
        break;
      default:
        if (!r.number()) return false;
        break;
    }
    // After a complete value: close containers, or move on to the next element.
    for (;;) {
      r.skip_ws();
      if (depth == 0) return r.p == r.end;
      if (r.p >= r.end) return false;
      const unsigned char c = *r.p++;
      if (top_is_object()) {
        if (c == '}') {
          --depth;
          continue;
        }
        if (c != ',' || !member_key()) return false;
      } else {
        if (c == ']') {
          --depth;
          continue;
        }
        if (c != ',') return false;
      }
      break;  // the next value
    }
  }
}

}  // namespace vil::values
