// Speed of the values layer on a typical row: int4 id, text name, numeric amount,
// timestamptz, bool. Goals (one core): >= 3 M rows/s converted to typed values, and JSON
// value writing fast enough for >= 2 M whole JSON lines per second.
//
//   build/bench/values/bench_values --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <array>
#include <string>
#include <vector>

#include "vil/values/convert.hpp"
#include "vil/values/json_writer.hpp"
#include "vil/values/oids.hpp"

namespace {

using namespace vil::values;

constexpr std::array<uint32_t, 5> kTypes = {oid::kInt4, oid::kText, oid::kNumeric,
                                            oid::kTimestampTz, oid::kBool};

struct Row {
  std::array<std::string, 5> text;
};

// 1024 different rows, so that branch predictors do not learn one value.
const std::vector<Row>& rows() {
  static const std::vector<Row> r = [] {
    std::vector<Row> v;
    const char* names[] = {"Alice Johnson-12", "Bob O'Connor 7", "Zoë Müller", "Chen Wei 陈伟",
                           "Quote \"q\" name"};
    for (int i = 0; i < 1024; ++i) {
      Row row;
      row.text[0] = std::to_string(1000 + i * 37);
      row.text[1] = names[i % 5];
      row.text[2] = std::to_string(i * 13 % 100000) + "." + std::to_string(10 + i % 90);
      char ts[64];
      std::snprintf(ts, sizeof ts, "2024-%02d-%02d %02d:%02d:%02d.%06d+00", 1 + i % 12, 1 + i % 28,
                    i % 24, i % 60, (i * 7) % 60, i * 977 % 1000000);
      row.text[3] = ts;
      row.text[4] = i % 3 ? "t" : "f";
      v.push_back(std::move(row));
    }
    return v;
  }();
  return r;
}

void BM_RowTyped(benchmark::State& state) {
  const auto& rs = rows();
  std::array<Value, 5> values;
  std::size_t i = 0;
  for (auto _ : state) {
    const Row& row = rs[i++ & 1023];
    for (std::size_t c = 0; c < 5; ++c) {
      auto v = convert(kTypes[c], row.text[c]);
      if (!v) state.SkipWithError("conversion failed");
      values[c] = std::move(*v);
    }
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RowTyped);

// Types looked up once per relation (as a relation cache would), not per value.
void BM_RowTypedCachedTypes(benchmark::State& state) {
  const auto& rs = rows();
  std::array<TypeInfo, 5> types;
  for (std::size_t c = 0; c < 5; ++c) types[c] = builtin_type(kTypes[c]);
  std::array<Value, 5> values;
  std::size_t i = 0;
  for (auto _ : state) {
    const Row& row = rs[i++ & 1023];
    for (std::size_t c = 0; c < 5; ++c) {
      auto v = convert(types[c], row.text[c]);
      if (!v) state.SkipWithError("conversion failed");
      values[c] = std::move(*v);
    }
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RowTypedCachedTypes);

void BM_RowJsonValues(benchmark::State& state) {
  const auto& rs = rows();
  std::array<TypeInfo, 5> types;
  for (std::size_t c = 0; c < 5; ++c) types[c] = builtin_type(kTypes[c]);
  std::string out;
  out.reserve(256);
  std::size_t i = 0;
  for (auto _ : state) {
    const Row& row = rs[i++ & 1023];
    out.clear();
    for (std::size_t c = 0; c < 5; ++c) {
      if (!write_json_value(out, types[c], row.text[c])) state.SkipWithError("write failed");
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RowJsonValues);

// A whole line as --format jsonl writes it, the parts that do not change from row to row
// prepared once (as an output would per relation).
void BM_RowJsonLine(benchmark::State& state) {
  const auto& rs = rows();
  std::array<TypeInfo, 5> types;
  for (std::size_t c = 0; c < 5; ++c) types[c] = builtin_type(kTypes[c]);
  const std::string head = R"({"op":"insert","schema":"public","table":"orders","after":{)";
  const std::array<std::string, 5> keys = {R"("id":)", R"(,"name":)", R"(,"amount":)",
                                           R"(,"created_at":)", R"(,"active":)"};
  std::string out;
  out.reserve(512);
  std::size_t i = 0;
  for (auto _ : state) {
    const Row& row = rs[i++ & 1023];
    out.clear();
    out += head;
    for (std::size_t c = 0; c < 5; ++c) {
      out += keys[c];
      if (!write_json_value(out, types[c], row.text[c])) state.SkipWithError("write failed");
    }
    out += "}}\n";
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RowJsonLine);

void BM_ConvertOne(benchmark::State& state, uint32_t type_oid, std::string text) {
  for (auto _ : state) {
    auto v = convert(type_oid, text);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK_CAPTURE(BM_ConvertOne, int4, oid::kInt4, "1234567");
BENCHMARK_CAPTURE(BM_ConvertOne, text, oid::kText, "Alice Johnson-12");
BENCHMARK_CAPTURE(BM_ConvertOne, numeric, oid::kNumeric, "12345.67");
BENCHMARK_CAPTURE(BM_ConvertOne, timestamptz, oid::kTimestampTz,
                  "2024-01-15 10:30:00.123456+05:30");
BENCHMARK_CAPTURE(BM_ConvertOne, float8, oid::kFloat8, "1.2345678901234567e-05");
BENCHMARK_CAPTURE(BM_ConvertOne, uuid, oid::kUuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
BENCHMARK_CAPTURE(BM_ConvertOne, interval, oid::kInterval, "1 year 2 mons 3 days 04:05:06.789");
BENCHMARK_CAPTURE(BM_ConvertOne, int4_array_10, oid::kInt4Array, "{1,2,3,4,5,6,7,8,9,10}");
BENCHMARK_CAPTURE(BM_ConvertOne, text_array_3, oid::kTextArray, R"({"a b","c\"d",e})");

void BM_JsonOne(benchmark::State& state, uint32_t type_oid, std::string text) {
  std::string out;
  out.reserve(text.size() * 2 + 64);
  for (auto _ : state) {
    out.clear();
    auto r = write_json_value(out, type_oid, text);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK_CAPTURE(BM_JsonOne, int4, oid::kInt4, "1234567");
BENCHMARK_CAPTURE(BM_JsonOne, float8, oid::kFloat8, "1.2345678901234567e-05");
BENCHMARK_CAPTURE(BM_JsonOne, text16, oid::kText, "Alice Johnson-12");
BENCHMARK_CAPTURE(BM_JsonOne, text_ascii_4k, oid::kText, std::string(4096, 'a'));
BENCHMARK_CAPTURE(BM_JsonOne, text_utf8_4k, oid::kText, [] {
  std::string s;
  while (s.size() < 4096) s += "Zoë Müller 陈伟 ";
  return s;
}());
BENCHMARK_CAPTURE(BM_JsonOne, jsonb_1k, oid::kJsonb, [] {
  std::string s = "{";
  for (int i = 0; s.size() < 1000; ++i) s += "\"key" + std::to_string(i) + "\": [1, 2.5, \"v\"], ";
  s += "\"end\": null}";
  return s;
}());
BENCHMARK_CAPTURE(BM_JsonOne, int4_array_10, oid::kInt4Array, "{1,2,3,4,5,6,7,8,9,10}");

}  // namespace

BENCHMARK_MAIN();
