// Whatever the text, the writer's output is valid JSON (nlohmann::json parses it), and it
// agrees with convert(): same verdict where the writer validates, same value where both work.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace vil::values {
namespace {

constexpr uint32_t kTypes[] = {
    oid::kBool,
    oid::kInt2,
    oid::kInt4,
    oid::kInt8,
    oid::kOid,
    oid::kFloat4,
    oid::kFloat8,
    oid::kNumeric,
    oid::kText,
    oid::kBytea,
    oid::kUuid,
    oid::kJson,
    oid::kJsonb,
    oid::kDate,
    oid::kTime,
    oid::kTimeTz,
    oid::kTimestamp,
    oid::kTimestampTz,
    oid::kInterval,
    oid::kInt4Array,
    oid::kTextArray,
    oid::kFloat8Array,
    oid::kJsonbArray,
    oid::kByteaArray,
    oid::kBoolArray,
    oid::kNumericArray,
    oid::kTimestampTzArray,
    600,
};

const std::vector<std::string>& samples() {
  static const std::vector<std::string> s = [] {
    std::vector<std::string> v = {
        "",
        "t",
        "f",
        "0",
        "-0",
        "42",
        "-32768",
        "2147483648",
        "9223372036854775808",
        "1.5",
        "NaN",
        "Infinity",
        "-Infinity",
        "1e+100",
        "1e999",
        ".5",
        "12345678901234567890.5",
        "\\x0102ff",
        "\\x0",
        "a\\000b",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        R"({"a": [1, 2]})",
        "[1,",
        "\"x\"",
        "2024-01-15",
        "04:05:06.789-08",
        "2024-01-15 16:00:00.123456+05:30",
        "1 year 2 mons",
        "{}",
        "{1,2,3}",
        "{{1,2},{3,4}}",
        R"({"a\"b",NULL,"NULL"})",
        "{1,2",
        "[0:1]={1,2}",
        R"({"{\"a\": 1}",NULL})",
        R"({"\\x01"})",
        "{t,f}",
        "{NaN,1.5}",
        "{\"2024-01-01 00:00:00+00\"}",
        "\xFF\xFE",
        "\n\t\"\\",
        "{\xC3\xA9,\"\xC3\"}",
        "[1e400]",
        "{\"[1e400]\"}",
    };
    // Random texts over the characters that matter to these grammars.
    static constexpr char kAlphabet[] =
        "0123456789{}[]:=,\"\\ .-+eExNULLnulltrfaIfinity\xC3\xA9\xFF\x01\n";
    std::mt19937 rng(20240115);
    std::uniform_int_distribution<std::size_t> len(0, 24);
    std::uniform_int_distribution<std::size_t> pick(0, sizeof kAlphabet - 2);
    for (int i = 0; i < 3000; ++i) {
      std::string t;
      for (std::size_t n = len(rng); n > 0; --n) t.push_back(kAlphabet[pick(rng)]);
      v.push_back(std::move(t));
    }
    return v;
  }();
  return s;
}

bool writer_validates(const TypeInfo& t) {
  const TypeKind k = t.kind == TypeKind::Array ? t.element_kind : t.kind;
  switch (k) {
    case TypeKind::Bool:
    case TypeKind::Int2:
    case TypeKind::Int4:
    case TypeKind::Int8:
    case TypeKind::Oid:
    case TypeKind::Float4:
    case TypeKind::Float8:
    case TypeKind::Numeric:
    case TypeKind::Json:
    case TypeKind::Jsonb:
    case TypeKind::Bytea:
      return true;
    default:
      return false;
  }
}

// The elements of a (nested) JSON array in row-major order.
void leaves(const nlohmann::json& j, std::vector<nlohmann::json>& out) {
  if (!j.is_array()) {
    out.push_back(j);
    return;
  }
  for (const auto& e : j) leaves(e, out);
}

void check_same_value(const TypeInfo& type, const Value& v, const nlohmann::json& j,
                      const std::string& text) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          EXPECT_EQ(j, nlohmann::json(x)) << text;
        } else if constexpr (std::is_same_v<T, int64_t>) {
          EXPECT_EQ(j.get<int64_t>(), x) << text;
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isnan(x)) {
            EXPECT_EQ(j, "NaN") << text;
          } else if (std::isinf(x)) {
            EXPECT_EQ(j, x > 0 ? "Infinity" : "-Infinity") << text;
          } else if (type.kind == TypeKind::Float4 || type.element_kind == TypeKind::Float4) {
            EXPECT_EQ(static_cast<float>(j.get<double>()), static_cast<float>(x)) << text;
          } else {
            EXPECT_EQ(j.get<double>(), x) << text;
          }
        } else if constexpr (std::is_same_v<T, Numeric>) {
          EXPECT_EQ(j, std::string(x.text)) << text;
        } else if constexpr (std::is_same_v<T, Array>) {
          ASSERT_TRUE(j.is_array()) << text;
          std::vector<nlohmann::json> flat;
          leaves(j, flat);
          ASSERT_EQ(flat.size(), x.size()) << text;
          const TypeInfo element = builtin_type(type.element_oid);
          for (std::size_t i = 0; i < flat.size(); ++i) {
            if (std::holds_alternative<Null>(x[i])) {
              EXPECT_TRUE(flat[i].is_null()) << text;
            } else {
              check_same_value(element, x[i], flat[i], text);
            }
          }
        }
      },
      static_cast<const ValueVariant&>(v));
}

TEST(JsonProperty, OutputAlwaysParsesAndAgreesWithConvert) {
  std::size_t parsed = 0;
  for (const uint32_t type_oid : kTypes) {
    const TypeInfo type = builtin_type(type_oid);
    for (const std::string& text : samples()) {
      std::string out = "[";
      const auto w = write_json_value(out, type, text);
      out += "]";
      try {
        const auto j = nlohmann::json::parse(out);
        ++parsed;
        const auto v = convert(type, text);
        if (!w) {
          EXPECT_FALSE(v) << type.name << " '" << text << "'";
        } else if (writer_validates(type) && type.kind != TypeKind::Array) {
          EXPECT_TRUE(v) << type.name << " '" << text << "': " << v.error().message;
        }
        if (w && v) check_same_value(type, *v, j.at(0), text);
      } catch (const nlohmann::json::out_of_range&) {
        // nlohmann refuses numbers beyond double's range (1e400), which JSON allows; only
        // embedded json can carry those.
        EXPECT_TRUE(type.kind == TypeKind::Json || type.kind == TypeKind::Jsonb ||
                    type.element_kind == TypeKind::Json || type.element_kind == TypeKind::Jsonb)
            << type.name << " '" << text << "' -> " << out;
      } catch (const nlohmann::json::exception& e) {
        ADD_FAILURE() << type.name << " '" << text << "' -> " << out << ": " << e.what();
      }
    }
  }
  EXPECT_GT(parsed, samples().size());
}

TEST(JsonProperty, ValidUtf8RoundTrips) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> cp(0, 0x10FFFF);
  for (int i = 0; i < 2000; ++i) {
    std::string in;
    for (int n = 0; n < 20; ++n) {
      uint32_t c = cp(rng) % (n % 3 == 0 ? 0x80 : 0x110000);
      if (c >= 0xD800 && c <= 0xDFFF) c = 'x';
      if (c < 0x80) {
        in += static_cast<char>(c);
      } else if (c < 0x800) {
        in += static_cast<char>(0xC0 | (c >> 6));
        in += static_cast<char>(0x80 | (c & 0x3F));
      } else if (c < 0x10000) {
        in += static_cast<char>(0xE0 | (c >> 12));
        in += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        in += static_cast<char>(0x80 | (c & 0x3F));
      } else {
        in += static_cast<char>(0xF0 | (c >> 18));
        in += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        in += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        in += static_cast<char>(0x80 | (c & 0x3F));
      }
    }
    std::string out;
    write_json_string(out, in);
    EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), in);
  }
}

TEST(JsonProperty, ArbitraryBytesGiveValidStrings) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 5000; ++i) {
    std::string in(static_cast<std::size_t>(i % 40), '\0');
    for (char& c : in) c = static_cast<char>(byte(rng));
    std::string out;
    write_json_string(out, in);
    EXPECT_NO_THROW({
      const auto j = nlohmann::json::parse(out);
      EXPECT_TRUE(j.is_string());
    }) << ::testing::PrintToString(in);
  }
}

TEST(JsonProperty, JsonCheckAgreesWithNlohmann) {
  for (const std::string& text : samples()) {
    bool theirs = true;
    try {
      const auto j = nlohmann::json::parse(text);
      theirs = !j.is_discarded();
    } catch (const nlohmann::json::out_of_range&) {
      theirs = true;
    } catch (const nlohmann::json::exception&) {
      theirs = false;
    }
    EXPECT_EQ(is_valid_json(text), theirs) << ::testing::PrintToString(text);
  }
}

}  // namespace
}  // namespace vil::values
