#include <gtest/gtest.h>

#include <string>

#include "vil/pgoutput/utf8_sequence.hpp"
#include "vil/pgoutput/error.hpp"
#include "vil/pgoutput/utf8.hpp"

namespace vil::pgoutput {
namespace {

TEST(Utf8, AcceptsValidText) {
  EXPECT_TRUE(is_valid_utf8(std::string_view{}));
  EXPECT_TRUE(is_valid_utf8("plain ascii, long enough to use the 16-byte fast path twice over"));
  EXPECT_TRUE(is_valid_utf8("δέλτα €"));
  EXPECT_TRUE(is_valid_utf8("\xC2\x80"));          // U+0080
  EXPECT_TRUE(is_valid_utf8("\xDF\xBF"));          // U+07FF
  EXPECT_TRUE(is_valid_utf8("\xE0\xA0\x80"));      // U+0800
  EXPECT_TRUE(is_valid_utf8("\xED\x9F\xBF"));      // U+D7FF
  EXPECT_TRUE(is_valid_utf8("\xEE\x80\x80"));      // U+E000
  EXPECT_TRUE(is_valid_utf8("\xF0\x90\x80\x80"));  // U+10000
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  EXPECT_TRUE(
      is_valid_utf8("0123456789abcdef\xF0\x9F\x98\x80"
                    "0123456789abcdef"));
}

TEST(Utf8, RejectsMalformedText) {
  for (const std::string_view bad : {
           std::string_view{"\x80"},              // lone continuation
           std::string_view{"\xC0\x80"},          // overlong NUL
           std::string_view{"\xC1\xBF"},          // overlong
           std::string_view{"\xE0\x80\x80"},      // overlong 3-byte
           std::string_view{"\xED\xA0\x80"},      // surrogate U+D800
           std::string_view{"\xF0\x80\x80\x80"},  // overlong 4-byte
           std::string_view{"\xF4\x90\x80\x80"},  // past U+10FFFF
           std::string_view{"\xF5\x80\x80\x80"},
           std::string_view{"\xFF"},
           std::string_view{"\xC3"},          // cut short
           std::string_view{"\xE2\x82"},      // cut short
           std::string_view{"\xE2\x28\xA1"},  // bad continuation
           std::string_view{"0123456789abcdef0123456789abcdef\xC3(", 34},
       }) {
    EXPECT_FALSE(is_valid_utf8(bad)) << testing::PrintToString(std::string(bad));
  }
}

TEST(Utf8, FindsTheFirstBadByteWhereverItIs) {
  // Every length around the word-at-a-time paths, a bad byte at every place,
  // after ASCII or after a valid two-byte character.
  for (std::size_t length = 1; length <= 40; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      std::string text(length, 'a');
      text[at] = '\xFF';
      EXPECT_EQ(find_invalid_utf8(text), at) << length << " " << at;
      if (at >= 2) {
        text[0] = '\xC3';
        text[1] = '\xA9';
        EXPECT_EQ(find_invalid_utf8(text), at) << length << " " << at << " after e-acute";
      }
    }
    const std::string ascii(length, 'a');
    EXPECT_EQ(find_invalid_utf8(ascii), length);
    // Valid multi-byte text at the end, inside the last 8 bytes.
    EXPECT_EQ(find_invalid_utf8(ascii + "\xE2\x82\xAC"), length + 3);
    // A sequence cut short by the end: reported at its lead byte.
    EXPECT_EQ(find_invalid_utf8(ascii + "\xF0\x9F\x98"), length);
  }
  EXPECT_EQ(find_invalid_utf8(std::string_view{}), 0U);
}

// The sequence reader under find_invalid_utf8(), append_printable() and the
// values layer's JSON writer: a whole sequence's length, or 0 and the maximal
// subpart that one U+FFFD replaces (Unicode's "substitution of maximal
// subparts").
TEST(Utf8Sequence, GivesTheLengthOrTheMaximalSubpart) {
  struct Case {
    std::string_view bytes;
    std::size_t length;  // 0: ill-formed
    std::size_t bad;     // the maximal subpart, when ill-formed
  };
  for (const Case& c : {
           Case{"\xC2\x80", 2, 0},
           Case{"\xDF\xBF", 2, 0},
           Case{"\xE0\xA0\x80", 3, 0},
           Case{"\xED\x9F\xBF", 3, 0},
           Case{"\xEF\xBF\xBD", 3, 0},
           Case{"\xF0\x90\x80\x80", 4, 0},
           Case{"\xF4\x8F\xBF\xBF!", 4, 0},  // stops at the sequence's end
           Case{"\x80", 0, 1},               // lone continuation
           Case{"\xC0\x80", 0, 1},           // overlong: no lead byte
           Case{"\xF5\x80\x80\x80", 0, 1},   // past U+10FFFF: no lead byte
           Case{"\xFF", 0, 1},
           Case{"\xE0\x80\x80", 0, 1},      // overlong 3-byte: bad second byte
           Case{"\xED\xA0\x80", 0, 1},      // surrogate
           Case{"\xF4\x90\x80\x80", 0, 1},  // past U+10FFFF
           Case{"\xC3", 0, 1},              // cut short by the end
           Case{"\xE2\x82", 0, 2},
           Case{"\xF0\x9F\x98", 0, 3},
           Case{"\xE2\x28\xA1", 0, 1},  // bad continuation
           Case{"\xF0\x9F\x28", 0, 2},
       }) {
    const auto* p = reinterpret_cast<const unsigned char*>(c.bytes.data());
    std::size_t bad = 0;
    EXPECT_EQ(utf8_sequence(p, p + c.bytes.size(), &bad), c.length)
        << testing::PrintToString(std::string(c.bytes));
    if (c.length == 0) {
      EXPECT_EQ(bad, c.bad) << testing::PrintToString(std::string(c.bytes));
    }
  }
}

TEST(AppendPrintable, EscapesControlsAndBadBytes) {
  std::string out;
  append_printable(out, std::string_view("a\tb\\c\x7F\xC3\xA9\xFF\xC2\x85z", 12));
  EXPECT_EQ(out, "a\\x09b\\x5Cc\\x7Fé\\xFF\\xC2\\x85z");
}

}  // namespace
}  // namespace vil::pgoutput
