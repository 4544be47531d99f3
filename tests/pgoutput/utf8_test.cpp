#include <gtest/gtest.h>

#include <string>

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

TEST(AppendPrintable, EscapesControlsAndBadBytes) {
  std::string out;
  append_printable(out, std::string_view("a\tb\\c\x7F\xC3\xA9\xFF\xC2\x85z", 12));
  EXPECT_EQ(out, "a\\x09b\\x5Cc\\x7Fé\\xFF\\xC2\\x85z");
}

}  // namespace
}  // namespace vil::pgoutput
