// Speed of the output encoders on a 5-column insert (int4 id, text of ~16
// characters, numeric, timestamptz, bool), the rows already decoded: what
// ChangeEncoder::encode costs per change. Goal (one core): >= 2 M rows/s as
// JSON lines.
//
//   taskset -c 1 build/bench/output/bench_output --benchmark_min_time=2
//
// items_per_second is rows (changes) per second; bytes_per_second counts the
// bytes written.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "pgoutput/wire.hpp"
#include "vil/cdc/change.hpp"
#include "vil/output/change_encoder.hpp"
#include "vil/pgoutput/decoder.hpp"

namespace {

using namespace vil;
using pgoutput::testing::Wire;

constexpr std::size_t row_count = 1024;  // different rows, so branch predictors do not learn one


struct Stream {
  pgoutput::Decoder decoder;
  std::vector<Wire> messages;
  std::vector<cdc::Change> changes;
};

// Kept alive for the whole run: the changes are views into the messages.
Stream& stream(char identity, bool updates) {
  static Stream streams[4];
  Stream& s = streams[(identity == 'f' ? 2 : 0) + (updates ? 1 : 0)];
  if (!s.changes.empty()) return s;
  Wire relation('R');
  relation.u32(16384).str("public").str("orders").ch(identity).u16(5);
  relation.u8(1).str("id").u32(23).i32(-1);
  relation.u8(0).str("name").u32(25).i32(-1);
  relation.u8(0).str("amount").u32(1700).i32(-1);
  relation.u8(0).str("created_at").u32(1184).i32(-1);
  relation.u8(0).str("active").u32(16).i32(-1);
  if (!s.decoder.decode(relation.span())) std::abort();
  const char* names[] = {"Alice Johnson-12", "Bob O'Connor 7", "Zoë Müller", "Chen Wei 陈伟",
                         "Quote \"q\" name"};
  s.messages.reserve(row_count);
  for (std::size_t i = 0; i < row_count; ++i) {
    char ts[64];
    std::snprintf(ts, sizeof ts, "2024-%02zu-%02zu %02zu:%02zu:%02zu.%06zu+00", 1 + i % 12,
                  1 + i % 28, i % 24, i % 60, (i * 7) % 60, i * 977 % 1000000);
    const std::string id = std::to_string(1000 + i * 37);
    const std::string amount = std::to_string(i * 13 % 100000) + "." + std::to_string(10 + i % 90);
    const char* active = i % 3 != 0 ? "t" : "f";
    Wire w(updates ? 'U' : 'I');
    w.u32(16384);
    if (updates && identity == 'f') {
      w.ch('O').columns(5).text(id).text(names[(i + 1) % 5]).text(amount).text(ts).text(active);
    }
    w.ch('N').columns(5).text(id).text(names[i % 5]).text(amount).text(ts).text(active);
    s.messages.push_back(std::move(w));
  }
  for (std::size_t i = 0; i < row_count; ++i) {
    auto decoded = s.decoder.decode(s.messages[i].span());
    if (!decoded) std::abort();
    cdc::Change c;
    c.relation = decoded->relation;
    c.types = &s.decoder.types();
    c.commit_lsn = pgoutput::Lsn{0x1A2B3F0 + (i / 16) * 0x1000};
    c.lsn = pgoutput::Lsn{0x1A2B3C4 + i * 0x80};
    c.xid = static_cast<std::uint32_t>(742 + i / 16);
    c.ordinal = static_cast<std::uint32_t>(i % 16);
    // 16 changes per transaction, as rows of one transaction share a commit time.
    c.commit_time_ns = 1'795'482'300'123'456'000 + static_cast<std::int64_t>(i / 16) * 1'000'000;
    if (const auto* ins = std::get_if<pgoutput::Insert>(&decoded->message)) {
      c.kind = cdc::ChangeKind::Insert;
      c.new_tuple = ins->new_tuple;
    } else {
      const auto& u = std::get<pgoutput::Update>(decoded->message);
      c.kind = cdc::ChangeKind::Update;
      c.old_kind = u.old_kind;
      c.old_tuple = u.old_tuple;
      c.new_tuple = u.new_tuple;
    }
    s.changes.push_back(c);
  }
  return s;
}

void run(benchmark::State& state, output::Format format, char identity, bool updates,
         bool schemas = false) {
  const Stream& s = stream(identity, updates);
  output::ChangeEncoderOptions options;
  options.format = format;
  options.schemas = schemas;
  options.database = "shop";
  // The system clock, as in use: Debezium reads it once per event.
  output::ChangeEncoder encoder(options);
  std::string out;
  out.reserve(64 * 1024);
  std::size_t bytes = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    encoder.encode(s.changes[i++ & (row_count - 1)], out);
    // Flushed in 64 KiB blocks, as an output would write them.
    if (out.size() > 60 * 1024) {
      bytes += out.size();
      benchmark::DoNotOptimize(out.data());
      out.clear();
    }
  }
  bytes += out.size();
  if (encoder.value_errors() != 0) state.SkipWithError(encoder.last_value_error().c_str());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void BM_JsonLinesInsert(benchmark::State& state) {
  run(state, output::Format::JsonLines, 'd', false);
}
BENCHMARK(BM_JsonLinesInsert);

void BM_DebeziumInsert(benchmark::State& state) {
  run(state, output::Format::Debezium, 'd', false);
}
BENCHMARK(BM_DebeziumInsert);

// REPLICA IDENTITY FULL: the old row is written too.
void BM_JsonLinesUpdateFull(benchmark::State& state) {
  run(state, output::Format::JsonLines, 'f', true);
}
BENCHMARK(BM_JsonLinesUpdateFull);

void BM_DebeziumUpdateFull(benchmark::State& state) {
  run(state, output::Format::Debezium, 'f', true);
}
BENCHMARK(BM_DebeziumUpdateFull);

// With Kafka Connect's schema block before each value.
void BM_DebeziumInsertSchemas(benchmark::State& state) {
  run(state, output::Format::Debezium, 'd', false, true);
}
BENCHMARK(BM_DebeziumInsertSchemas);

// The record key alone (a broker sink asks for it beside each value).
void BM_Key(benchmark::State& state) {
  const Stream& s = stream('d', false);
  output::ChangeEncoder encoder(output::ChangeEncoderOptions{});
  std::string key;
  key.reserve(256);
  std::size_t i = 0;
  for (auto _ : state) {
    key.clear();
    benchmark::DoNotOptimize(encoder.encode_key(s.changes[i++ & (row_count - 1)], key));
    benchmark::DoNotOptimize(key.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Key);

}  // namespace

BENCHMARK_MAIN();
