#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "test_support.hpp"

namespace vil::values {
namespace {

using testing::err;
using testing::ok;

TEST(ConvertBool, AcceptsWhatBoolinAccepts) {
  for (const char* t : {"t", "true", "TRUE", "tr", " yes ", "y", "on", "1"}) {
    EXPECT_EQ(ok(oid::kBool, t), Value{true}) << t;
  }
  for (const char* t : {"f", "false", "F", "no", "n", "off", "of", "0"}) {
    EXPECT_EQ(ok(oid::kBool, t), Value{false}) << t;
  }
}

TEST(ConvertBool, RejectsOthers) {
  for (const char* t : {"", "o", "2", "truee", "yess", "maybe", "t f"}) err(oid::kBool, t);
  EXPECT_EQ(err(oid::kBool, "maybe").message, "bool: 'maybe' is not a boolean (offset 0)");
  EXPECT_EQ(err(oid::kBool, "  x").offset, 2u);
}

TEST(ConvertInt, Int2Range) {
  EXPECT_EQ(ok(oid::kInt2, "-32768"), Value{int64_t{-32768}});
  EXPECT_EQ(ok(oid::kInt2, "32767"), Value{int64_t{32767}});
  EXPECT_EQ(ok(oid::kInt2, "0"), Value{int64_t{0}});
  const ValueError e = err(oid::kInt2, "70000");
  EXPECT_EQ(e.code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(e.message, "int2: '70000' is out of range [-32768, 32767] (offset 0)");
  EXPECT_EQ(err(oid::kInt2, "32768").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kInt2, "-32769").code, ValueErrorCode::OutOfRange);
}

TEST(ConvertInt, Int4Range) {
  EXPECT_EQ(ok(oid::kInt4, "2147483647"), Value{int64_t{2147483647}});
  EXPECT_EQ(ok(oid::kInt4, "-2147483648"), Value{int64_t{-2147483648LL}});
  EXPECT_EQ(err(oid::kInt4, "2147483648").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kInt4, "-2147483649").code, ValueErrorCode::OutOfRange);
}

TEST(ConvertInt, Int8Range) {
  EXPECT_EQ(ok(oid::kInt8, "9223372036854775807"), Value{std::numeric_limits<int64_t>::max()});
  EXPECT_EQ(ok(oid::kInt8, "-9223372036854775808"), Value{std::numeric_limits<int64_t>::min()});
  EXPECT_EQ(err(oid::kInt8, "9223372036854775808").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kInt8, "-9223372036854775809").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kInt8, "99999999999999999999999999").code, ValueErrorCode::OutOfRange);
}

TEST(ConvertInt, OidIsUnsigned) {
  EXPECT_EQ(ok(oid::kOid, "4294967295"), Value{int64_t{4294967295LL}});
  EXPECT_EQ(ok(oid::kOid, "-1"), Value{int64_t{4294967295LL}});  // oidin's wrap-around
  EXPECT_EQ(err(oid::kOid, "4294967296").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kOid, "-2147483649").code, ValueErrorCode::OutOfRange);
}

TEST(ConvertInt, SyntaxAndWhitespace) {
  EXPECT_EQ(ok(oid::kInt4, " 42 "), Value{int64_t{42}});
  EXPECT_EQ(ok(oid::kInt4, "+7"), Value{int64_t{7}});
  EXPECT_EQ(ok(oid::kInt4, "007"), Value{int64_t{7}});
  const ValueError e = err(oid::kInt4, "12a");
  EXPECT_EQ(e.code, ValueErrorCode::Syntax);
  EXPECT_EQ(e.offset, 2u);
  EXPECT_EQ(e.message, "int4: '12a' is not an integer (offset 2)");
  EXPECT_EQ(err(oid::kInt4, "").offset, 0u);
  EXPECT_EQ(err(oid::kInt4, "-").offset, 1u);
  EXPECT_EQ(err(oid::kInt4, "1 2").offset, 2u);
  EXPECT_EQ(err(oid::kInt4, "1.0").offset, 1u);
  EXPECT_EQ(err(oid::kInt8, "0x10").offset, 1u);
}

TEST(ConvertFloat, NumbersAndSpecials) {
  EXPECT_EQ(ok(oid::kFloat8, "1.5"), Value{1.5});
  EXPECT_EQ(ok(oid::kFloat8, "1e+100"), Value{1e100});
  EXPECT_EQ(ok(oid::kFloat8, "1.2345678901234567e-05"), Value{1.2345678901234567e-05});
  EXPECT_EQ(ok(oid::kFloat8, "5e-324"), Value{5e-324});
  EXPECT_EQ(ok(oid::kFloat8, " 2.5 "), Value{2.5});
  EXPECT_EQ(ok(oid::kFloat8, "+2.5"), Value{2.5});
  EXPECT_EQ(ok(oid::kFloat4, "1.1"), Value{static_cast<double>(1.1f)});
  EXPECT_EQ(ok(oid::kFloat4, "3.4028235e+38"), Value{static_cast<double>(3.4028235e+38f)});
  const double nan = std::get<double>(ok(oid::kFloat8, "NaN"));
  EXPECT_TRUE(std::isnan(nan));
  EXPECT_EQ(ok(oid::kFloat8, "Infinity"), Value{std::numeric_limits<double>::infinity()});
  EXPECT_EQ(ok(oid::kFloat4, "-Infinity"), Value{-std::numeric_limits<double>::infinity()});
  EXPECT_EQ(ok(oid::kFloat8, "-inf"), Value{-std::numeric_limits<double>::infinity()});
  const double minus_zero = std::get<double>(ok(oid::kFloat8, "-0"));
  EXPECT_EQ(minus_zero, 0.0);
  EXPECT_TRUE(std::signbit(minus_zero));
}

TEST(ConvertFloat, Errors) {
  EXPECT_EQ(err(oid::kFloat4, "1e39").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kFloat8, "1e309").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kFloat8, "1e-400").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kFloat8, "1.5x").message,
            "float8: '1.5x' is not a floating-point number (offset 3)");
  EXPECT_EQ(err(oid::kFloat8, "abc").offset, 0u);
  EXPECT_EQ(err(oid::kFloat8, "nan(1)").code, ValueErrorCode::Syntax);
  EXPECT_EQ(err(oid::kFloat8, "infinityx").code, ValueErrorCode::Syntax);
  EXPECT_EQ(err(oid::kFloat8, "").code, ValueErrorCode::Syntax);
  EXPECT_EQ(err(oid::kFloat8, "-").code, ValueErrorCode::Syntax);
  EXPECT_EQ(err(oid::kFloat8, "0x1p3").offset, 1u);
}

TEST(ConvertNumeric, KeepsTheExactText) {
  const std::string_view text = "12345678901234567890.000000001";
  const Value v = ok(oid::kNumeric, text);
  const auto& n = std::get<Numeric>(v);
  EXPECT_EQ(n.text, text);
  EXPECT_EQ(n.text.data(), text.data());  // a view, not a copy
  EXPECT_FALSE(n.is_nan());
  EXPECT_EQ(std::get<Numeric>(ok(oid::kNumeric, " -1.50 ")).text, "-1.50");
  EXPECT_EQ(std::get<Numeric>(ok(oid::kNumeric, "1e10")).text, "1e10");
  EXPECT_EQ(std::get<Numeric>(ok(oid::kNumeric, ".5")).text, ".5");
  EXPECT_EQ(std::get<Numeric>(ok(oid::kNumeric, "5.")).text, "5.");
  EXPECT_TRUE(std::get<Numeric>(ok(oid::kNumeric, "NaN")).is_nan());
  EXPECT_TRUE(std::get<Numeric>(ok(oid::kNumeric, "Infinity")).is_infinite());
  EXPECT_TRUE(std::get<Numeric>(ok(oid::kNumeric, "-Infinity")).is_infinite());
  EXPECT_EQ(err(oid::kNumeric, "1.2.3").message, "numeric: '1.2.3' is not a number (offset 3)");
  EXPECT_EQ(err(oid::kNumeric, "").offset, 0u);
  EXPECT_EQ(err(oid::kNumeric, "-").offset, 1u);
  EXPECT_EQ(err(oid::kNumeric, "1e").offset, 2u);
  EXPECT_EQ(err(oid::kNumeric, "1,5").offset, 1u);
}

TEST(ConvertText, IsAViewForEveryStringType) {
  const std::string_view text = "  padded  ";
  for (uint32_t t : {oid::kText, oid::kVarchar, oid::kBpchar, oid::kName, oid::kChar, oid::kXml}) {
    const Value v = ok(t, text);
    ASSERT_TRUE(std::holds_alternative<Text>(v)) << t;
    EXPECT_EQ(std::get<Text>(v).text.data(), text.data());
    EXPECT_EQ(std::get<Text>(v).text.size(), text.size());
  }
  EXPECT_EQ(ok(oid::kText, ""), Value{Text{""}});
}

TEST(ConvertText, RejectsTextThatIsNotUtf8AtItsFirstBadByte) {
  for (uint32_t t : {oid::kText, oid::kVarchar, oid::kBpchar, oid::kName, oid::kChar, oid::kXml}) {
    const ValueError e = err(t, "caf\xC3\xA9 \xFF!");
    EXPECT_EQ(e.code, ValueErrorCode::Encoding) << t;
    EXPECT_EQ(e.offset, 6u) << t;
  }
  // The message names the type and the offset, and is itself UTF-8.
  EXPECT_EQ(err(oid::kText, "caf\xC3\xA9 \xFF!").message,
            "text: 'caf\xC3\xA9 \\xff!' is not valid UTF-8 (offset 6)");
  EXPECT_EQ(err(oid::kVarchar, "ab\xED\xA0\x80").message,  // a UTF-16 surrogate
            "varchar: 'ab\\xed\\xa0\\x80' is not valid UTF-8 (offset 2)");
  // Past the 16-byte ASCII fast path, a sequence cut short by the end.
  const std::string long_text = std::string(40, 'x') + "\xE2\x82";
  EXPECT_EQ(err(oid::kText, long_text).offset, 40u);
  EXPECT_EQ(err(oid::kName, "\xC0\x80").offset, 0u);  // overlong NUL
  // Valid multi-byte text of every length is a view as before.
  EXPECT_EQ(ok(oid::kText, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"),
            Value{Text{"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"}});
}

TEST(ConvertUnknown, KeepsTheText) {
  EXPECT_EQ(ok(600, "(1,2)"), Value{Unknown{"(1,2)"}});
  EXPECT_EQ(ok(16384, "happy"), Value{Unknown{"happy"}});
  TypeCatalog c;
  c.add_alias(20000, "positive_int", oid::kInt4);
  auto v = convert(c.find(20000), "12");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, Value{int64_t{12}});
  auto e = convert(c.find(20000), "x");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "positive_int: 'x' is not an integer (offset 0)");
  EXPECT_EQ(e.error().type_oid, 20000u);
}

TEST(ConvertUnknown, TextMustBeUtf8Too) {
  const ValueError e = err(16384, "hap\xF5py");
  EXPECT_EQ(e.code, ValueErrorCode::Encoding);
  EXPECT_EQ(e.offset, 3u);
  EXPECT_EQ(e.message, "unknown: 'hap\\xf5py' is not valid UTF-8 (offset 3)");
  EXPECT_EQ(ok(16384, "heureux \xF0\x9F\x98\x80"), Value{Unknown{"heureux \xF0\x9F\x98\x80"}});
}

std::vector<std::byte> bytes(std::initializer_list<int> b) {
  std::vector<std::byte> out;
  for (int x : b) out.push_back(static_cast<std::byte>(x));
  return out;
}

TEST(ConvertBytea, HexForm) {
  const Value v = ok(oid::kBytea, "\\x0102ff");
  const auto& b = std::get<Bytea>(v);
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b.bytes(), bytes({1, 2, 255}));
  EXPECT_EQ(std::get<Bytea>(ok(oid::kBytea, "\\x")).bytes(), bytes({}));
  EXPECT_EQ(std::get<Bytea>(ok(oid::kBytea, "\\xABcd")).bytes(), bytes({0xab, 0xcd}));
  EXPECT_EQ(std::get<Bytea>(ok(oid::kBytea, "\\x01 02\n03")).bytes(), bytes({1, 2, 3}));
  std::array<std::byte, 3> out{};
  b.decode(out);
  EXPECT_EQ(std::vector<std::byte>(out.begin(), out.end()), bytes({1, 2, 255}));
}

TEST(ConvertBytea, EscapeForm) {
  EXPECT_EQ(std::get<Bytea>(ok(oid::kBytea, "a\\000b\\\\\\377")).bytes(),
            bytes({'a', 0, 'b', '\\', 255}));
  EXPECT_EQ(std::get<Bytea>(ok(oid::kBytea, "")).size(), 0u);
}

TEST(ConvertBytea, Errors) {
  EXPECT_EQ(err(oid::kBytea, "\\x0").message,
            "bytea: '\\x0' has an odd number of hexadecimal digits (offset 2)");
  EXPECT_EQ(err(oid::kBytea, "\\x0g").message,
            "bytea: '\\x0g' has an invalid hexadecimal digit (offset 3)");
  EXPECT_EQ(err(oid::kBytea, "\\x0 1").offset, 3u);  // whitespace may not split a pair
  EXPECT_EQ(err(oid::kBytea, "ab\\9").offset, 2u);
  EXPECT_EQ(err(oid::kBytea, "\\400").offset, 0u);
  EXPECT_EQ(err(oid::kBytea, "x\\").offset, 1u);
}

TEST(ConvertUuid, Forms) {
  const Uuid expected{{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd,
                       0x38, 0x0a, 0x11}};
  for (const char* t :
       {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "a0eebc999c0b4ef8bb6d6bb9bd380a11",
        "{a0eebc999c0b4ef8bb6d6bb9bd380a11}", "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11"}) {
    EXPECT_EQ(ok(oid::kUuid, t), Value{expected}) << t;
  }
  EXPECT_EQ(expected.to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(err(oid::kUuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1").offset, 34u);
  EXPECT_EQ(err(oid::kUuid, "a0eebc999-c0b-4ef8-bb6d-6bb9bd380a11").offset, 9u);
  EXPECT_EQ(err(oid::kUuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-").offset, 36u);
  EXPECT_EQ(err(oid::kUuid, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").offset, 37u);
  EXPECT_EQ(err(oid::kUuid, "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").message,
            "uuid: 'g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' is not a UUID (offset 0)");
}

TEST(ConvertJson, ValidatesAndKeepsAView) {
  const std::string_view text = R"({"a": [1, -2.5e3, true, false, null, "x\u00e9\n"], "b": {}})";
  EXPECT_EQ(ok(oid::kJson, text), Value{Json{text}});
  EXPECT_EQ(ok(oid::kJsonb, " [] "), Value{Json{" [] "}});
  EXPECT_EQ(ok(oid::kJsonb, "\"\\ud83d\\ude00\""), Value{Json{"\"\\ud83d\\ude00\""}});
  EXPECT_EQ(err(oid::kJson, R"({"a":})").message, R"(json: '{"a":}' is not valid JSON (offset 0))");
  for (const char* bad :
       {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\\ud800\"", "\"\\udc00\"",
        "\"a\tb\"", "[1] 2", "{'a':1}", "\"\xff\"", "nul", "{\"a\":1,}", "[\"\\x\"]"}) {
    err(oid::kJsonb, bad);
  }
}

}  // namespace
}  // namespace vil::values
