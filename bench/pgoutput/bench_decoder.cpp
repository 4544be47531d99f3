// Decoding speed of the pgoutput decoder on a stream of 5-column Inserts held
// in memory, decoded to views with every column visited.
//
//   build/bench/pgoutput/bench_decoder
//
// items_per_second is messages per second; bytes_per_second counts the
// message bytes (and frame headers, for the frame benchmark).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "vil/pgoutput/pgoutput.hpp"
#include "vil/values/convert.hpp"
#include "vil/values/type_info.hpp"

namespace {

using namespace vil::pgoutput;

constexpr Oid relation_id = 16384;
constexpr std::size_t message_count = 4096;

void put8(std::vector<std::byte>& out, std::uint8_t v) {
  out.push_back(std::byte{v});
}
void put(std::vector<std::byte>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) put8(out, static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_string(std::vector<std::byte>& out, std::string_view s) {
  for (const char c : s) put8(out, static_cast<std::uint8_t>(c));
  put8(out, 0);
}
void put_text(std::vector<std::byte>& out, std::string_view s) {
  put8(out, 't');
  put(out, s.size(), 4);
  for (const char c : s) put8(out, static_cast<std::uint8_t>(c));
}

// What PostgreSQL sends for public.orders(id int8 key, customer text,
// total numeric, created_at timestamptz, paid bool).
std::vector<std::byte> relation_message() {
  std::vector<std::byte> out;
  put8(out, 'R');
  put(out, relation_id, 4);
  put_string(out, "public");
  put_string(out, "orders");
  put8(out, 'd');
  put(out, 5, 2);
  const struct {
    const char* name;
    Oid type;
  } columns[] = {{"id", 20}, {"customer", 25}, {"total", 1700}, {"created_at", 1184}, {"paid", 16}};
  for (const auto& column : columns) {
    put8(out, column.type == 20 ? 1 : 0);
    put_string(out, column.name);
    put(out, column.type, 4);
    put(out, 0xFFFFFFFF, 4);
  }
  return out;
}

struct InsertStream {
  std::vector<std::byte> bytes;
  std::vector<std::span<const std::byte>> messages;
};

InsertStream insert_stream(bool framed) {
  InsertStream stream;
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < message_count; ++i) {
    starts.push_back(stream.bytes.size());
    if (framed) {
      put8(stream.bytes, 'w');
      put(stream.bytes, 0x1A2B3C4 + i * 100, 8);
      put(stream.bytes, 0x1A2B3C4 + i * 100 + 100, 8);
      put(stream.bytes, 757'479'845'000'000 + i, 8);
    }
    put8(stream.bytes, 'I');
    put(stream.bytes, relation_id, 4);
    put8(stream.bytes, 'N');
    put(stream.bytes, 5, 2);
    put_text(stream.bytes, std::to_string(1'000'000 + i));
    put_text(stream.bytes, "customer-" + std::to_string(i % 977));
    put_text(stream.bytes, std::to_string(i % 10'000) + "." + std::to_string(10 + i % 90));
    put_text(stream.bytes, "2024-01-02 03:04:05." + std::to_string(100'000 + i % 900'000) + "+00");
    put_text(stream.bytes, i % 3 == 0 ? "f" : "t");
  }
  starts.push_back(stream.bytes.size());
  for (std::size_t i = 0; i < message_count; ++i) {
    stream.messages.emplace_back(stream.bytes.data() + starts[i], starts[i + 1] - starts[i]);
  }
  return stream;
}

Decoder primed_decoder() {
  Decoder decoder;
  const auto relation = relation_message();
  if (!decoder.decode(relation)) std::abort();
  return decoder;
}

std::size_t visit(const TupleView& tuple) {
  std::size_t total = 0;
  for (const ColumnValue& value : tuple)
    total += value.bytes.size() + static_cast<std::size_t>(value.kind);
  return total;
}

// The stateful decoder: relation lookup and column count check included.
void BM_DecodeInserts(benchmark::State& state) {
  const InsertStream stream = insert_stream(false);
  Decoder decoder = primed_decoder();
  for (auto _ : state) {
    for (const auto message : stream.messages) {
      auto decoded = decoder.decode(message);
      if (!decoded) {
        state.SkipWithError(decoded.error().message.c_str());
        return;
      }
      benchmark::DoNotOptimize(visit(std::get<Insert>(decoded->message).new_tuple));
      benchmark::DoNotOptimize(decoded->relation);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * message_count));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.bytes.size()));
}
BENCHMARK(BM_DecodeInserts);

// Decoding plus every value converted to its typed form (int8, text, numeric,
// timestamptz, bool): what a consumer that wants typed rows pays.
void BM_DecodeInsertsTyped(benchmark::State& state) {
  const InsertStream stream = insert_stream(false);
  Decoder decoder = primed_decoder();
  const RelationSchema* relation = decoder.relations().find(relation_id);
  std::vector<vil::values::TypeInfo> types;
  for (const auto& column : relation->columns) {
    types.push_back(vil::values::builtin_type(column.type_oid));
  }
  for (auto _ : state) {
    for (const auto message : stream.messages) {
      auto decoded = decoder.decode(message);
      if (!decoded) {
        state.SkipWithError(decoded.error().message.c_str());
        return;
      }
      std::size_t column = 0;
      for (const ColumnValue& value : std::get<Insert>(decoded->message).new_tuple) {
        auto typed = vil::values::convert(types[column++], value.text());
        if (!typed) {
          state.SkipWithError(typed.error().message.c_str());
          return;
        }
        benchmark::DoNotOptimize(typed);
      }
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * message_count));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.bytes.size()));
}
BENCHMARK(BM_DecodeInsertsTyped);

// decode_message alone: no relation cache.
void BM_DecodeInsertsStateless(benchmark::State& state) {
  const InsertStream stream = insert_stream(false);
  const DecodeContext context{};
  for (auto _ : state) {
    for (const auto message : stream.messages) {
      auto decoded = decode_message(message, context);
      if (!decoded) {
        state.SkipWithError(decoded.error().message.c_str());
        return;
      }
      benchmark::DoNotOptimize(visit(std::get<Insert>(*decoded).new_tuple));
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * message_count));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.bytes.size()));
}
BENCHMARK(BM_DecodeInsertsStateless);

// What the replication loop does per CopyData: frame, then message.
void BM_DecodeXLogDataInserts(benchmark::State& state) {
  const InsertStream stream = insert_stream(true);
  Decoder decoder = primed_decoder();
  for (auto _ : state) {
    for (const auto frame : stream.messages) {
      auto decoded_frame = decode_copy_data(frame);
      if (!decoded_frame) {
        state.SkipWithError(decoded_frame.error().message.c_str());
        return;
      }
      auto decoded = decoder.decode(std::get<XLogData>(*decoded_frame).payload);
      if (!decoded) {
        state.SkipWithError(decoded.error().message.c_str());
        return;
      }
      benchmark::DoNotOptimize(visit(std::get<Insert>(decoded->message).new_tuple));
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * message_count));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.bytes.size()));
}
BENCHMARK(BM_DecodeXLogDataInserts);

// UTF-8 validation of every text value, for a value layer that asks for it.
void BM_ValidateUtf8Columns(benchmark::State& state) {
  const InsertStream stream = insert_stream(false);
  Decoder decoder = primed_decoder();
  std::vector<Insert> inserts;
  for (const auto message : stream.messages) {
    inserts.push_back(std::get<Insert>(decoder.decode(message)->message));
  }
  for (auto _ : state) {
    std::size_t valid = 0;
    for (const Insert& insert : inserts) {
      for (const ColumnValue& value : insert.new_tuple) valid += is_valid_utf8(value.bytes) ? 1 : 0;
    }
    benchmark::DoNotOptimize(valid);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * message_count));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.bytes.size()));
}
BENCHMARK(BM_ValidateUtf8Columns);

}  // namespace

BENCHMARK_MAIN();
