// The JSON string escaper: the hottest code of the JSON output, so it copies runs of plain
// ASCII eight bytes at a time into space reserved up front and never reallocates per byte.
#include <algorithm>
#include <array>
#include <cstring>

#include "vil/pgoutput/utf8_sequence.hpp"
#include "swar.hpp"
#include "vil/values/json_writer.hpp"

namespace vil::values {
namespace {

// For each ASCII byte: 0 when it stands as it is, else the letter after the backslash
// ('u' meaning \u00XX).
constexpr std::array<char, 128> kEscape = [] {
  std::array<char, 128> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = 'u';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}();

constexpr char kHex[] = "0123456789abcdef";

// Input bytes handled per reservation: the output reserved is 6 bytes per input byte (the
// longest escape, \u00XX), so a huge value does not reserve six times its size at once.
constexpr std::size_t kChunk = 16 * 1024;
// A UTF-8 sequence that starts inside a chunk may end up to 3 bytes after it.
constexpr std::size_t kSlack = 3 * 6;

// Escapes input from `p` up to `stop` (finishing a UTF-8 sequence that crosses `stop`,
// within `end`) into `o`; returns the new end of the output.
unsigned char* escape_chunk(const unsigned char*& p, const unsigned char* stop,
                            const unsigned char* end, unsigned char* o) noexcept {
  while (p < stop) {
    while (stop - p >= 8 && detail::json_special_bytes(detail::load8(p)) == 0) {
      std::memcpy(o, p, 8);
      o += 8;
      p += 8;
    }
    if (p >= stop) break;
    const unsigned char c = *p;
    if (c < 0x80) {
      const char e = kEscape[c];
      if (e == 0) {
        *o++ = c;
      } else if (e != 'u') {
        *o++ = '\\';
        *o++ = static_cast<unsigned char>(e);
      } else {
        std::memcpy(o, "\\u00", 4);
        o[4] = static_cast<unsigned char>(kHex[c >> 4]);
        o[5] = static_cast<unsigned char>(kHex[c & 15]);
        o += 6;
      }
      ++p;
      continue;
    }
    std::size_t bad = 0;
    const std::size_t n = pgoutput::utf8_sequence(p, end, &bad);
    if (n != 0) {
      std::memcpy(o, p, n);
      o += n;
      p += n;
    } else {
      std::memcpy(o, "\xEF\xBF\xBD", 3);  // U+FFFD
      o += 3;
      p += bad;
    }
  }
  return o;
}

}  // namespace

void write_json_string_contents(std::string& out, std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* const end = p + text.size();
  while (p < end) {
    const unsigned char* const stop = p + std::min<std::size_t>(end - p, kChunk);
    const std::size_t old = out.size();
    // The size actually written is returned; resize_and_overwrite's second argument is not
    // used (libstdc++ 12 passes the new capacity there when the string grows).
    out.resize_and_overwrite(old + 6 * static_cast<std::size_t>(stop - p) + kSlack,
                             [&](char* buf, std::size_t) noexcept {
                               auto* o = reinterpret_cast<unsigned char*>(buf + old);
                               o = escape_chunk(p, stop, end, o);
                               return static_cast<std::size_t>(reinterpret_cast<char*>(o) - buf);
                             });
  }
}

void write_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  write_json_string_contents(out, text);
  out.push_back('"');
}

void write_json_hex_string(std::string& out, std::span<const std::byte> bytes) {
  const std::size_t old = out.size();
  const std::size_t size = old + 5 + 2 * bytes.size();
  // The size is recomputed rather than taken from the second argument: libstdc++ 12 passes
  // the new capacity there when the string grows.
  out.resize_and_overwrite(size, [&](char* buf, std::size_t) noexcept {
    char* o = buf + old;
    std::memcpy(o, "\"\\\\x", 4);
    o += 4;
    for (const std::byte b : bytes) {
      const auto u = static_cast<unsigned>(b);
      *o++ = kHex[u >> 4];
      *o++ = kHex[u & 15];
    }
    *o = '"';
    return size;
  });
}

}  // namespace vil::values
