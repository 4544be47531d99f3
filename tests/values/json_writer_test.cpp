#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

namespace vil::values {
namespace {

using testing::json;
using testing::json_string;

TEST(JsonWriter, NullAndBool) {
  std::string out;
  write_json_null(out);
  EXPECT_EQ(out, "null");
  EXPECT_EQ(json(oid::kBool, "t"), "true");
  EXPECT_EQ(json(oid::kBool, "f"), "false");
  EXPECT_EQ(json(oid::kBool, "yes"), "true");
}

TEST(JsonWriter, IntegersAreNumbers) {
  EXPECT_EQ(json(oid::kInt4, "42"), "42");
  EXPECT_EQ(json(oid::kInt4, "-2147483648"), "-2147483648");
  EXPECT_EQ(json(oid::kInt2, "0"), "0");
  EXPECT_EQ(json(oid::kInt8, "9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(json(oid::kOid, "4294967295"), "4294967295");
  // Forms PostgreSQL accepts but JSON does not are rewritten.
  EXPECT_EQ(json(oid::kInt4, " 42 "), "42");
  EXPECT_EQ(json(oid::kInt4, "+42"), "42");
  EXPECT_EQ(json(oid::kInt4, "007"), "7");
  EXPECT_EQ(json(oid::kInt4, "-0"), "0");
  EXPECT_EQ(json(oid::kOid, "-1"), "4294967295");
}

TEST(JsonWriter, FloatsAreNumbersExceptTheSpecials) {
  EXPECT_EQ(json(oid::kFloat8, "1.5"), "1.5");
  EXPECT_EQ(json(oid::kFloat8, "1e+100"), "1e+100");
  EXPECT_EQ(json(oid::kFloat8, "1.5e-05"), "1.5e-05");
  EXPECT_EQ(json(oid::kFloat8, "-0"), "-0");
  EXPECT_EQ(json(oid::kFloat4, "3.4028235e+38"), "3.4028235e+38");
  EXPECT_EQ(json(oid::kFloat8, "NaN"), "\"NaN\"");
  EXPECT_EQ(json(oid::kFloat8, "Infinity"), "\"Infinity\"");
  EXPECT_EQ(json(oid::kFloat4, "-Infinity"), "\"-Infinity\"");
  EXPECT_EQ(json(oid::kFloat8, "-inf"), "\"-Infinity\"");
  // Not JSON numbers as written: rewritten in the shortest form that reads back the same.
  EXPECT_EQ(json(oid::kFloat8, ".5"), "0.5");
  EXPECT_EQ(json(oid::kFloat8, "+1.5"), "1.5");
  EXPECT_EQ(json(oid::kFloat8, " 2 "), "2");
  EXPECT_EQ(json(oid::kFloat8, "5."), "5");
  EXPECT_EQ(json(oid::kFloat4, ".1"), "0.1");
}

TEST(JsonWriter, NumericIsAStringWithTheExactText) {
  EXPECT_EQ(json(oid::kNumeric, "12345678901234567890.000000001"),
            "\"12345678901234567890.000000001\"");
  EXPECT_EQ(json(oid::kNumeric, "-12.50"), "\"-12.50\"");
  EXPECT_EQ(json(oid::kNumeric, "NaN"), "\"NaN\"");
  EXPECT_EQ(json(oid::kNumeric, "-Infinity"), "\"-Infinity\"");
  EXPECT_EQ(json(oid::kNumeric, " 1 "), "\"1\"");
}

TEST(JsonWriter, JsonIsEmbedded) {
  EXPECT_EQ(json(oid::kJsonb, R"({"a": 1, "b": [true, null]})"), R"({"a": 1, "b": [true, null]})");
  EXPECT_EQ(json(oid::kJson, "{\"a\":\r\n 1}"), "{\"a\":   1}");
  EXPECT_EQ(json(oid::kJson, "\"x\""), "\"x\"");
  EXPECT_EQ(json(oid::kJson, "12"), "12");
}

TEST(JsonWriter, InvalidJsonBecomesAString) {
  std::string out = "[";
  const auto r = write_json_value(out, oid::kJson, "{\"a\":");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "json: '{\"a\":' is not valid JSON (offset 0)");
  EXPECT_EQ(out, "[\"{\\\"a\\\":\"");
}

TEST(JsonWriter, ByteaIsItsHexText) {
  EXPECT_EQ(json(oid::kBytea, "\\x0102ff"), "\"\\\\x0102ff\"");
  EXPECT_EQ(json(oid::kBytea, "\\x"), "\"\\\\x\"");
  EXPECT_EQ(json(oid::kBytea, "\\xABCD"), "\"\\\\xabcd\"");
  // bytea_output = escape is shown in the hex form all the same.
  EXPECT_EQ(json(oid::kBytea, "a\\000\\\\"), "\"\\\\x61005c\"");
  std::string out;
  const std::byte raw[] = {std::byte{0}, std::byte{0xab}, std::byte{0x10}};
  write_json_hex_string(out, raw);
  EXPECT_EQ(out, "\"\\\\x00ab10\"");
}

TEST(JsonWriter, OtherTypesAreTheirText) {
  EXPECT_EQ(json(oid::kText, "hello"), "\"hello\"");
  EXPECT_EQ(json(oid::kUuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
  EXPECT_EQ(json(oid::kTimestampTz, "2024-01-15 16:00:00.123456+05:30"),
            "\"2024-01-15 16:00:00.123456+05:30\"");
  EXPECT_EQ(json(oid::kDate, "infinity"), "\"infinity\"");
  EXPECT_EQ(json(oid::kInterval, "1 year 2 mons"), "\"1 year 2 mons\"");
  EXPECT_EQ(json(oid::kTime, "24:00:00"), "\"24:00:00\"");
  EXPECT_EQ(json(oid::kBpchar, "ab  "), "\"ab  \"");
  EXPECT_EQ(json(600, "(1,2)"), "\"(1,2)\"");
  EXPECT_EQ(json(16384, "happy"), "\"happy\"");
}

TEST(JsonWriter, Arrays) {
  EXPECT_EQ(json(oid::kInt4Array, "{}"), "[]");
  EXPECT_EQ(json(oid::kInt4Array, "{1,2,3}"), "[1,2,3]");
  EXPECT_EQ(json(oid::kInt4Array, "{{1,2},{3,4}}"), "[[1,2],[3,4]]");
  EXPECT_EQ(json(oid::kInt4Array, "[0:1]={1,NULL}"), "[1,null]");
  EXPECT_EQ(json(oid::kTextArray, R"({"a\"b","c,d",NULL,"NULL",""," x ","a\\b"})"),
            R"(["a\"b","c,d",null,"NULL",""," x ","a\\b"])");
  EXPECT_EQ(json(oid::kFloat8Array, "{1.5,NaN,-Infinity}"), R"([1.5,"NaN","-Infinity"])");
  EXPECT_EQ(json(oid::kNumericArray, "{1.50,NaN}"), R"(["1.50","NaN"])");
  EXPECT_EQ(json(oid::kBoolArray, "{t,f,NULL}"), "[true,false,null]");
  EXPECT_EQ(json(oid::kJsonbArray, R"({"{\"a\": 1}",NULL,"[2]"})"), R"([{"a": 1},null,[2]])");
  EXPECT_EQ(json(oid::kByteaArray, R"({"\\x01ff"})"), R"(["\\x01ff"])");
  EXPECT_EQ(json(oid::kTimestampTzArray, R"({"2024-01-01 00:00:00+00"})"),
            R"(["2024-01-01 00:00:00+00"])");
  EXPECT_EQ(json(oid::kTextArray, "{{a,b},{c,d}}"), R"([["a","b"],["c","d"]])");
}

// One rule whatever the element type: every built-in array is a JSON array.
TEST(JsonWriter, ArraysOfTypesKeptAsTextAreArraysOfStrings) {
  EXPECT_EQ(json(3927, R"x({"[1,3)","[10,21)"})x"), R"x(["[1,3)","[10,21)"])x");     // int8range[]
  EXPECT_EQ(json(1041, "{10.0.0.1/32,::1,NULL}"), R"(["10.0.0.1/32","::1",null])");  // inet[]
  EXPECT_EQ(json(791, R"({"$1.50","-$0.01"})"), R"(["$1.50","-$0.01"])");            // money[]
  EXPECT_EQ(json(1561, "{101,0}"), R"(["101","0"])");                                // bit[]
  EXPECT_EQ(json(3221, "{0/16B3748,FFFFFFFF/FFFFFFFF}"),
            R"(["0/16B3748","FFFFFFFF/FFFFFFFF"])");                          // pg_lsn[]
  EXPECT_EQ(json(1011, "{}"), "[]");                                          // xid[]
  EXPECT_EQ(json(6150, R"x({"{[1,3),[5,7)}"})x"), R"x(["{[1,3),[5,7)}"])x");  // int4multirange[]
  // box's elements are separated by ';' (its points hold commas).
  EXPECT_EQ(json(1020, "{(1,1),(0,0);(3,3),(2,2)}"), R"x(["(1,1),(0,0)","(3,3),(2,2)"])x");
  EXPECT_EQ(json(1020, "{{(1,1),(0,0)};{(3,3),(2,2)}}"), R"x([["(1,1),(0,0)"],["(3,3),(2,2)"]])x");
  // Lower bounds other than 1 have no place in a JSON array: the elements remain, in order.
  EXPECT_EQ(json(oid::kTextArray, "[-2:0]={a,b,c}"), R"(["a","b","c"])");
  EXPECT_EQ(json(oid::kInt4Array, "[0:1][5:6]={{1,2},{3,4}}"), "[[1,2],[3,4]]");
}

TEST(JsonWriter, DomainsAndArraysOfDomainsFollowTheirBaseType) {
  TypeCatalog c;
  c.add_description({20000, "public", "posint", oid::kInt4, 0, ','});
  c.add_description({20001, "public", "small_posint", 20000, 0, ','});
  c.add_description({20002, "public", "_posint", 0, 20000, ','});
  c.add_description({20003, "public", "doc", oid::kJsonb, 0, ','});
  c.add_description({20004, "public", "tags", oid::kTextArray, 0, ','});
  const auto write = [&](uint32_t type, std::string_view text) {
    std::string out;
    EXPECT_TRUE(write_json_value(out, c.find(type), text)) << text;
    return out;
  };
  EXPECT_EQ(write(20000, "7"), "7");
  EXPECT_EQ(write(20001, "8"), "8");
  EXPECT_EQ(write(20002, "{1,NULL}"), "[1,null]");
  EXPECT_EQ(write(20003, R"({"k": 1})"), R"({"k": 1})");
  EXPECT_EQ(write(20004, "{a,b}"), R"(["a","b"])");
}

TEST(JsonWriter, RegisteredEnumArrayIsAnArrayOfStrings) {
  TypeCatalog c;
  c.add_type(16390, "public", "_mood");
  std::string out;
  ASSERT_TRUE(write_json_value(out, c.find(16390), "{happy,\"very sad\"}"));
  EXPECT_EQ(out, R"(["happy","very sad"])");
}

TEST(JsonWriter, BadValuesAreKeptAsStringsWithAnError) {
  struct Case {
    uint32_t type;
    std::string_view text;
    std::string_view out;
    std::string_view message;
  };
  const Case kCases[] = {
      {oid::kInt4, "12a", R"("12a")", "int4: '12a' is not an integer (offset 2)"},
      {oid::kBool, "x", R"("x")", "bool: 'x' is not a boolean (offset 0)"},
      {oid::kFloat8, "1e999", R"("1e999")", "float8: '1e999' is out of range (offset 0)"},
      {oid::kNumeric, "1,5", R"("1,5")", "numeric: '1,5' is not a number (offset 1)"},
      {oid::kBytea, "\\x1", R"("\\x1")",
       "bytea: '\\x1' has an odd number of hexadecimal digits (offset 2)"},
      {oid::kInt4Array, "{1,2", R"("{1,2")",
       "_int4: array '{1,2' ends before its closing \"}\" (offset 4)"},
      {oid::kInt4Array, "{1,x,3}", R"("{1,x,3}")",
       "_int4: element 1: int4: 'x' is not an integer (offset 3)"},
      {oid::kJsonArray, R"({"{",1})", R"("{\"{\",1}")",
       "_json: element 0: json: '{' is not valid JSON (offset 2)"},
  };
  for (const auto& c : kCases) {
    std::string out;
    const auto r = write_json_value(out, c.type, c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(out, c.out) << c.text;
    EXPECT_EQ(r.error().message, c.message) << c.text;
    EXPECT_EQ(r.error().type_oid, c.type);
  }
}

TEST(JsonWriter, AppendsAfterWhatIsThere) {
  std::string out = R"({"id":)";
  ASSERT_TRUE(write_json_value(out, oid::kInt4, "7"));
  out += R"(,"name":)";
  ASSERT_TRUE(write_json_value(out, oid::kText, "x"));
  out += '}';
  EXPECT_EQ(out, R"({"id":7,"name":"x"})");
}

TEST(JsonString, Escapes) {
  EXPECT_EQ(json_string(""), R"("")");
  EXPECT_EQ(json_string("plain ascii text, longer than eight bytes"),
            R"("plain ascii text, longer than eight bytes")");
  EXPECT_EQ(json_string("quote\" backslash\\ slash/"), R"("quote\" backslash\\ slash/")");
  EXPECT_EQ(json_string("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(json_string(std::string_view("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\x7f\"");
  std::string contents;
  write_json_string_contents(contents, "a\"b");
  EXPECT_EQ(contents, R"(a\"b)");
}

TEST(JsonString, ValidUtf8PassesThrough) {
  EXPECT_EQ(json_string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF\"");
}

TEST(JsonString, InvalidUtf8BecomesReplacementCharacters) {
  const std::string r = "\xEF\xBF\xBD";  // U+FFFD
  struct Case {
    std::string_view in;
    std::string out;
  };
  const Case kCases[] = {
      {"\xFF", r},
      {"a\x80z", "a" + r + "z"},
      {"\xC3", r},                  // truncated at the end
      {"\xC3(", r + "("},           // bad continuation
      {"\xC0\xAF", r + r},          // overlong: C0 is never valid
      {"\xE0\x80\x80", r + r + r},  // overlong three-byte form
      {"\xED\xA0\x80", r + r + r},  // UTF-16 surrogate
      {"\xF0\x9F\x98", r},          // truncated four-byte sequence: one U+FFFD
      {"\xF0\x9F\x98"
       "A",
       r + "A"},
      {"\xF4\x90\x80\x80", r + r + r + r},  // above U+10FFFF
      {"\xF5\x80", r + r},
      {"\xE2\x82", r},
      {"ok\xE2\x82\xACok\xFE",
       "ok\xE2\x82\xAC"
       "ok" +
           r},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(json_string(c.in), "\"" + c.out + "\"") << ::testing::PrintToString(c.in);
  }
}

TEST(JsonString, LongTextAcrossChunks) {
  // Longer than the writer's 16 KiB chunk, with escapes and multi-byte characters on the
  // chunk boundaries.
  std::string in;
  std::string expected = "\"";
  for (int i = 0; in.size() < 70000; ++i) {
    switch (i % 5) {
      case 0:
        in += "abcdefghijk";
        expected += "abcdefghijk";
        break;
      case 1:
        in += "\n";
        expected += "\\n";
        break;
      case 2:
        in += "\xE2\x82\xAC";
        expected += "\xE2\x82\xAC";
        break;
      case 3:
        in += '\x01';
        expected += "\\u0001";
        break;
      default:
        in += "\xFF";
        expected += "\xEF\xBF\xBD";
        break;
    }
  }
  expected += '"';
  EXPECT_EQ(json_string(in), expected);
}

}  // namespace
}  // namespace vil::values
