#include "vil/values/text_encoding.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vil::values {
namespace {

// The UTF-8 of `bytes` in `encoding`, or "<not text>".
std::string utf8(std::string_view encoding, std::string_view bytes) {
  Utf8Transcoder t(encoding);
  std::string out = "kept:";
  if (!t.append_utf8(bytes, out)) return out == "kept:" ? "<not text>" : "<changed out>";
  return out.substr(5);
}

TEST(Utf8Transcoder, AsciiIsTextInEveryEncoding) {
  for (const char* e : {"UTF8", "LATIN1", "SQL_ASCII", "EUC_JP", "MULE_INTERNAL", "NO_SUCH"}) {
    EXPECT_EQ(utf8(e, "a b\x7f"), "a b\x7f") << e;
  }
}

TEST(Utf8Transcoder, NoTextHoldsANul) {
  for (const char* e : {"UTF8", "LATIN1", "SQL_ASCII"}) {
    EXPECT_EQ(utf8(e, std::string_view("a\0b", 3)), "<not text>") << e;
  }
  EXPECT_EQ(utf8("LATIN1", std::string_view("\xff\x00\xfe\x41", 4)), "<not text>");
}

TEST(Utf8Transcoder, Utf8IsCheckedNotChanged) {
  EXPECT_EQ(utf8("UTF8", "\xC3\xA9\xF0\x9F\x98\x80"), "\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(utf8("UTF8", "\xFF\x00\xFE\x41"), "<not text>");
  EXPECT_EQ(utf8("UTF8", "\xC3"), "<not text>");  // cut short
}

TEST(Utf8Transcoder, SingleByteEncodingsAreConverted) {
  EXPECT_EQ(utf8("LATIN1", "m\xE8ssage \xFC"), "m\xC3\xA8ssage \xC3\xBC");
  EXPECT_EQ(utf8("WIN1252", "\x80 5"), "\xE2\x82\xAC 5");  // the euro sign
  EXPECT_EQ(utf8("LATIN9", "\xA4"), "\xE2\x82\xAC");
  EXPECT_EQ(utf8("KOI8R", "\xC1"), "\xD0\xB0");  // Cyrillic a
  // 0x81 has no character in WIN1252.
  EXPECT_EQ(utf8("WIN1252", "\x81"), "<not text>");
}

TEST(Utf8Transcoder, MultiByteEncodingsAreConvertedOrRefused) {
  EXPECT_EQ(utf8("EUC_JP", "\xC6\xFC\xCB\xDC"), "\xE6\x97\xA5\xE6\x9C\xAC");  // 日本
  EXPECT_EQ(utf8("EUC_JP", "\xC6"), "<not text>");                            // cut short
}

TEST(Utf8Transcoder, WhatCannotBeConvertedIsNotText) {
  // SQL_ASCII declares no encoding; MULE_INTERNAL has no converter here.
  EXPECT_EQ(utf8("SQL_ASCII", "\xE8"), "<not text>");
  EXPECT_EQ(utf8("MULE_INTERNAL", "\x81\xA1"), "<not text>");
  EXPECT_EQ(utf8("NO_SUCH", "\xE8"), "<not text>");
}

TEST(Utf8Transcoder, ReusableAfterAFailure) {
  Utf8Transcoder t("EUC_JP");
  std::string out;
  EXPECT_FALSE(t.append_utf8("\xC6", out));
  EXPECT_EQ(out, "");
  EXPECT_TRUE(t.append_utf8("\xC6\xFC", out));
  EXPECT_EQ(out, "\xE6\x97\xA5");
  EXPECT_EQ(t.encoding(), "EUC_JP");
}

}  // namespace
}  // namespace vil::values
