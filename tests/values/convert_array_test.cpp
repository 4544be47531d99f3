#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "test_support.hpp"

namespace vil::values {
namespace {

using testing::err;
using testing::ok;

Array arr(uint32_t type_oid, std::string_view text) {
  const Value v = ok(type_oid, text);
  EXPECT_TRUE(std::holds_alternative<Array>(v)) << text;
  if (!std::holds_alternative<Array>(v)) return {};
  return std::get<Array>(v);
}

std::vector<ArrayDimension> dims(const Array& a) {
  return {a.dimensions().begin(), a.dimensions().end()};
}

TEST(ConvertArray, Empty) {
  const Array a = arr(oid::kInt4Array, "{}");
  EXPECT_EQ(a.size(), 0u);
  EXPECT_TRUE(a.dimensions().empty());
  EXPECT_EQ(a.element_oid(), oid::kInt4);
  EXPECT_EQ(arr(oid::kTextArray, " { } ").size(), 0u);
}

TEST(ConvertArray, OneDimension) {
  const Array a = arr(oid::kInt4Array, "{1,-2,3}");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0], Value{int64_t{1}});
  EXPECT_EQ(a[1], Value{int64_t{-2}});
  EXPECT_EQ(a[2], Value{int64_t{3}});
  EXPECT_EQ(dims(a), (std::vector<ArrayDimension>{{3, 1}}));
  EXPECT_EQ(arr(oid::kInt4Array, "{ 1 , 2 }").size(), 2u);
}

TEST(ConvertArray, TwoDimensions) {
  const Array a = arr(oid::kInt4Array, "{{1,2},{3,4}}");
  ASSERT_EQ(a.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a[static_cast<std::size_t>(i)], Value{int64_t{i + 1}});
  EXPECT_EQ(dims(a), (std::vector<ArrayDimension>{{2, 1}, {2, 1}}));
  const Array b = arr(oid::kInt4Array, "{{1,NULL,3}}");
  EXPECT_EQ(dims(b), (std::vector<ArrayDimension>{{1, 1}, {3, 1}}));
  EXPECT_EQ(b[1], Value{Null{}});
  EXPECT_EQ(arr(oid::kInt4Array, "{{{{{{1}}}}}}").dimensions().size(), 6u);
}

TEST(ConvertArray, DimensionDecoration) {
  Array a = arr(oid::kInt4Array, "[0:1]={1,2}");
  EXPECT_EQ(dims(a), (std::vector<ArrayDimension>{{2, 0}}));
  EXPECT_EQ(a[1], Value{int64_t{2}});
  a = arr(oid::kInt4Array, "[1:2][3:4]={{1,2},{3,4}}");
  EXPECT_EQ(dims(a), (std::vector<ArrayDimension>{{2, 1}, {2, 3}}));
  a = arr(oid::kInt4Array, "[-2:-1]={7,8}");
  EXPECT_EQ(dims(a), (std::vector<ArrayDimension>{{2, -2}}));
  a = arr(oid::kInt4Array, "[3]={7,8,9}");
  EXPECT_EQ(dims(a), (std::vector<ArrayDimension>{{3, 1}}));
}

TEST(ConvertArray, QuotedElementsAndEscapes) {
  const Array a =
      arr(oid::kTextArray, R"({"a\"b","c,d",NULL,"NULL",""," x ","a\\b",nULl,a b, c ,d\,e,"{}"})");
  const std::vector<Value> expected = {Text{"a\"b"}, Text{"c,d"}, Null{},       Text{"NULL"},
                                       Text{""},     Text{" x "}, Text{"a\\b"}, Null{},
                                       Text{"a b"},  Text{"c"},   Text{"d,e"},  Text{"{}"}};
  ASSERT_EQ(a.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(a[i], expected[i]) << i;
}

TEST(ConvertArray, EscapedElementsOutliveTheValueTheyCameFrom) {
  Array copy;
  {
    const std::string text = R"({"a\"b","c\\d",plain})";
    copy = arr(oid::kTextArray, text);
  }
  // The escaped elements live in the array's own storage; only "plain" pointed into `text`.
  EXPECT_EQ(std::get<Text>(copy[0]).text, "a\"b");
  EXPECT_EQ(std::get<Text>(copy[1]).text, "c\\d");
}

TEST(ConvertArray, TypedElements) {
  const Array ts = arr(oid::kTimestampTzArray,
                       R"({"2024-01-15 16:00:00.123456+05:30","1970-01-01 00:00:00+00",NULL})");
  ASSERT_EQ(ts.size(), 3u);
  EXPECT_EQ(std::get<TimestampTz>(ts[0]).micros, 1705314600123456);
  EXPECT_EQ(std::get<TimestampTz>(ts[1]).micros, 0);
  EXPECT_EQ(ts[2], Value{Null{}});
  const Array f = arr(oid::kFloat8Array, "{1.5,NaN,-Infinity}");
  EXPECT_EQ(f[0], Value{1.5});
  EXPECT_TRUE(std::isnan(std::get<double>(f[1])));
  const Array b = arr(oid::kBoolArray, "{t,f}");
  EXPECT_EQ(b[0], Value{true});
  EXPECT_EQ(b[1], Value{false});
  const Array by = arr(oid::kByteaArray, R"({"\\x0102",NULL})");
  EXPECT_EQ(std::get<Bytea>(by[0]).size(), 2u);
  const Array j = arr(oid::kJsonbArray, R"({"{\"a\": 1}","[true]"})");
  EXPECT_EQ(std::get<Json>(j[0]).text, R"({"a": 1})");
  const Array n = arr(oid::kNumericArray, "{1.5,NaN}");
  EXPECT_EQ(std::get<Numeric>(n[0]).text, "1.5");
  const Array u = arr(oid::kUuidArray, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}");
  EXPECT_EQ(std::get<Uuid>(u[0]).to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  const Array iv = arr(oid::kIntervalArray, R"({"1 day","-00:00:01"})");
  EXPECT_EQ(std::get<Interval>(iv[1]).micros, -1000000);
}

TEST(ConvertArray, BoxElementsAreSeparatedBySemicolons) {
  const Array a = arr(1020, "{(1,1),(0,0);(3,3),(2,2);NULL}");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a.element_oid(), 603u);
  EXPECT_EQ(a[0], Value{Unknown{"(1,1),(0,0)"}});
  EXPECT_EQ(a[1], Value{Unknown{"(3,3),(2,2)"}});
  EXPECT_EQ(a[2], Value{Null{}});
  EXPECT_EQ(err(1020, "{(1,1),(0,0);;(3,3),(2,2)}").message,
            "_box: array '{(1,1),(0,0);;(3,3),(2,2)}' has an unexpected \";\" (offset 13)");
}

TEST(ConvertArray, LowerBoundsAreKept) {
  const Array a = arr(oid::kTextArray, "[-2:0]={a,b,c}");
  ASSERT_EQ(dims(a).size(), 1u);
  EXPECT_EQ(dims(a)[0], (ArrayDimension{3, -2}));
}

TEST(ConvertArray, RegisteredEnumArray) {
  TypeCatalog c;
  c.add_type(16384, "public", "mood");
  c.add_type(16390, "public", "_mood");
  auto v = convert(c.find(16390), "{happy,\"very sad\"}");
  ASSERT_TRUE(v);
  const Array& a = std::get<Array>(*v);
  EXPECT_EQ(a.element_oid(), 16384u);
  EXPECT_EQ(a[0], Value{Unknown{"happy"}});
  EXPECT_EQ(a[1], Value{Unknown{"very sad"}});
}

TEST(ConvertArray, CopiesShareAndCompare) {
  const Value a = ok(oid::kInt4Array, "{{1,2},{3,4}}");
  const Value b = a;
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, ok(oid::kInt4Array, "{{1,2},{3,4}}"));
  EXPECT_NE(a, ok(oid::kInt4Array, "{1,2,3,4}"));
  EXPECT_NE(a, ok(oid::kInt8Array, "{{1,2},{3,4}}"));
  EXPECT_NE(a, ok(oid::kInt4Array, "[0:1][1:2]={{1,2},{3,4}}"));
}

struct BadArray {
  std::string_view text;
  std::string_view message;
};

TEST(ConvertArray, MalformedLiterals) {
  const BadArray kCases[] = {
      {"{1,2", "_int4: array '{1,2' ends before its closing \"}\" (offset 4)"},
      {"{\"ab,c}", "_int4: array '{\"ab,c}' has an unterminated quoted element (offset 1)"},
      {"{{1,2},{3}}", "_int4: array '{{1,2},{3}}' has sub-arrays of different lengths (offset 9)"},
      {"{1,{2}}", "_int4: array '{1,{2}}' has an unexpected \"{\" (offset 3)"},
      {"{{1},2}",
       "_int4: array '{{1},2}' has an element where a sub-array was expected (offset 5)"},
      {"{1,,2}", "_int4: array '{1,,2}' has an unexpected \",\" (offset 3)"},
      {"{1,}", "_int4: array '{1,}' has an unexpected \"}\" (offset 3)"},
      {"{,}", "_int4: array '{,}' has an unexpected \",\" (offset 1)"},
      {"{{}}", "_int4: array '{{}}' has an unexpected \"}\" (offset 2)"},
      {"{{1},{}}", "_int4: array '{{1},{}}' has an unexpected \"}\" (offset 6)"},
      {"{{{{{{{1}}}}}}}", "_int4: array '{{{{{{{1}}}}}}}' has more than 6 dimensions (offset 6)"},
      {"{1} x", "_int4: array '{1} x' has text after its closing \"}\" (offset 4)"},
      {"1,2", "_int4: array '1,2' does not start with \"{\" (offset 0)"},
      {"", "_int4: array '' does not start with \"{\" (offset 0)"},
      {"{\"1\" 2}",
       "_int4: array '{\"1\" 2}' has an unexpected character after an element (offset 5)"},
      {"{a\"b}",
       "_int4: array '{a\"b}' has an unexpected character in an unquoted element (offset 2)"},
      {"{1\\", "_int4: array '{1\\' ends in a backslash (offset 2)"},
      {"[0:2]={1,2}",
       "_int4: array '[0:2]={1,2}' has dimensions that do not match its contents (offset 0)"},
      {"[2:1]={}", "_int4: array '[2:1]={}' has an upper bound below its lower bound (offset 1)"},
      {"[1:2]{1,2}", "_int4: array '[1:2]{1,2}' is missing \"=\" after its dimensions (offset 5)"},
      {"[1:2={1,2}", "_int4: array '[1:2={1,2}' is missing \"]\" in its dimensions (offset 4)"},
      {"[x]={1}", "_int4: array '[x]={1}' has a malformed dimension bound (offset 1)"},
  };
  for (const auto& c : kCases) {
    const ValueError e = err(oid::kInt4Array, c.text);
    EXPECT_EQ(e.code, ValueErrorCode::Array) << c.text;
    EXPECT_EQ(e.message, c.message) << c.text;
  }
}

TEST(ConvertArray, BadElementNamesItsIndexAndOffset) {
  ValueError e = err(oid::kInt4Array, "{1,x}");
  EXPECT_EQ(e.code, ValueErrorCode::Syntax);
  EXPECT_EQ(e.offset, 3u);
  EXPECT_EQ(e.message, "_int4: element 1: int4: 'x' is not an integer (offset 3)");
  e = err(oid::kInt2Array, "{{1,2},{3,99999}}");
  EXPECT_EQ(e.code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(e.message,
            "_int2: element 3: int2: '99999' is out of range [-32768, 32767] (offset 10)");
  e = err(oid::kDateArray, R"({"2024-02-30"})");
  EXPECT_EQ(e.message,
            "_date: element 0: date: '2024-02-30' has a date field out of range (offset 2)");
}

TEST(ConvertArray, TextElementsMustBeUtf8) {
  ValueError e = err(oid::kTextArray, "{ok,ab\xFF}");
  EXPECT_EQ(e.code, ValueErrorCode::Encoding);
  EXPECT_EQ(e.offset, 6u);  // in the array's text
  EXPECT_EQ(e.message, "_text: element 1: text: 'ab\\xff' is not valid UTF-8 (offset 6)");
  // Quoted and escaped: the offset is that of the element's first byte, after its quote.
  e = err(oid::kTextArray, "{{a,b},{\"c\\\"\xC3\",NULL}}");
  EXPECT_EQ(e.code, ValueErrorCode::Encoding);
  EXPECT_EQ(e.offset, 9u);
  EXPECT_EQ(ok(oid::kTextArray, "{\"\xC3\xA9\",\xE2\x82\xAC}"),
            ok(oid::kTextArray, "{\xC3\xA9,\"\xE2\x82\xAC\"}"));
}

}  // namespace
}  // namespace vil::values
