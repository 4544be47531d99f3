#pragma once
// One UTF-8 sequence at a time, by RFC 3629's table (Unicode Table 3-7): no
// overlong forms, no surrogates, nothing past U+10FFFF. The one reader of
// that table: find_invalid_utf8() (utf8.cpp) and append_printable()
// (error.cpp) use it, and so does the values layer, which also needs the
// maximal subpart of a bad sequence (the span one U+FFFD replaces in JSON).
// Inline: the JSON string writer calls it for every non-ASCII character.

#include <cstddef>

namespace vil::pgoutput {

// Length of the well-formed UTF-8 sequence starting at p (lead byte >= 0x80), or, when it
// is ill-formed or cut short by `end`, 0 and *bad_len set to the length of its maximal
// subpart (1..3 bytes), the span that one U+FFFD replaces.
inline std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end,
                                 std::size_t* bad_len) noexcept {
  const unsigned char c = *p;
  std::size_t need;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    *bad_len = 1;
    return 0;
  }
  std::size_t k = 1;
  for (; k <= need; ++k) {
    if (p + k >= end) break;
    const unsigned char b = p[k];
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
  }
  if (k > need) return need + 1;
  *bad_len = k;
  return 0;
}

}  // namespace vil::pgoutput
