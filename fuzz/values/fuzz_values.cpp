// Input: 2 bytes choosing a type, then the column's text. Converts it, writes it as JSON,
// and checks that the JSON parses and agrees with the conversion's verdict.
//
//   fuzz_values fuzz/values/corpus -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "vil/pgoutput/utf8_sequence.hpp"
#include "touch_value.hpp"
#include "vil/pgoutput/utf8.hpp"
#include "vil/values/convert.hpp"
#include "vil/values/json_writer.hpp"
#include "vil/values/oids.hpp"

namespace {

using namespace vil::values;

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
    oid::kBoolArray,
    oid::kInt2Array,
    oid::kInt4Array,
    oid::kInt8Array,
    oid::kTextArray,
    oid::kFloat8Array,
    oid::kFloat4Array,
    oid::kNumericArray,
    oid::kByteaArray,
    oid::kJsonArray,
    oid::kJsonbArray,
    oid::kUuidArray,
    oid::kDateArray,
    oid::kTimeArray,
    oid::kTimeTzArray,
    oid::kTimestampArray,
    oid::kTimestampTzArray,
    oid::kIntervalArray,
    oid::kOidArray,
    16384,  // an unknown type
    1020,   // box[]: elements split on ';'
    3927,   // int8range[]: elements kept as text
};
constexpr std::size_t kTypeCount = sizeof kTypes / sizeof kTypes[0];

[[noreturn]] void fail(const char* what, const TypeInfo& type, std::string_view text,
                       const std::string& out) {
  std::fprintf(stderr, "%s\ntype %u (%.*s)\ntext: %.*s\njson: %s\n", what, type.oid,
               static_cast<int>(type.name.size()), type.name.data(), static_cast<int>(text.size()),
               text.data(), out.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t pick = (std::size_t{data[0]} << 8 | data[1]) % kTypeCount;
  TypeInfo type = builtin_type(kTypes[pick]);
  if (kTypes[pick] == 16384) type.name = "mood";
  const std::string text(reinterpret_cast<const char*>(data + 2), size - 2);

  // The validator (used by convert) skips ASCII a word at a time; walked one
  // sequence at a time with the sequence reader it is built on (the JSON
  // writer's), the text stops being UTF-8 at the same byte.
  std::size_t first_bad = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  while (first_bad < text.size()) {
    std::size_t bad = 0;
    const std::size_t n =
        p[first_bad] < 0x80 ? 1 : vil::pgoutput::utf8_sequence(p + first_bad, end, &bad);
    if (n == 0) break;
    first_bad += n;
  }
  if (vil::pgoutput::find_invalid_utf8(text) != first_bad) {
    fail("the UTF-8 readers disagree", type, text, "");
  }

  const auto value = convert(type, text);
  if (value) {
    volatile std::size_t sink = vil::fuzz::touch(*value);
    (void)sink;
  } else if (value.error().message.empty()) {
    fail("an error without a message", type, text, "");
  }

  std::string out = "[";
  const auto written = write_json_value(out, type, text);
  out += "]";
  if (!written && value) fail("the writer refused what convert() accepted", type, text, out);
  try {
    const auto j = nlohmann::json::parse(out);
    if (j.size() != 1) fail("not one JSON value", type, text, out);
  } catch (const nlohmann::json::out_of_range&) {
    // Numbers beyond double's range inside embedded json: valid JSON, refused by nlohmann.
    const TypeKind k = type.kind == TypeKind::Array ? type.element_kind : type.kind;
    if (k != TypeKind::Json && k != TypeKind::Jsonb) fail("number overflow", type, text, out);
  } catch (const nlohmann::json::exception& e) {
    fail(e.what(), type, text, out);
  }
  return 0;
}
