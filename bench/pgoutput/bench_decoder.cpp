// Decoding speed of the pgoutput decoder on a stream captured from PostgreSQL
// 15 and held in memory: tests/pgoutput/captures/bench_inserts.hex (written by
// recapture.sh), 1,000 Inserts into public.orders(id int4 key, customer text,
// total numeric, created_at timestamptz, paid bool) in four transactions. Each
// benchmark decodes the captured messages over and over, every column visited.
//
//   taskset -c 1 build/bench/pgoutput/bench_decoder --benchmark_repetitions=3
//
// items_per_second is messages per second; bytes_per_second counts the
// message bytes (and the XLogData headers, for the frame benchmark).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "capture_file.hpp"
#include "vil/pgoutput/pgoutput.hpp"
#include "vil/values/convert.hpp"
#include "vil/values/type_info.hpp"

namespace {

using namespace vil::pgoutput;

// Messages copied end to end into one buffer, as they would sit in a socket's.
struct Stream {
  std::vector<std::byte> bytes;
  std::vector<std::span<const std::byte>> messages;
  std::vector<std::byte> relation;  // the Relation message the Inserts need
};

testing::Capture read_bench_capture() {
  try {
    return testing::read_capture(VIL_BENCH_CAPTURE);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_decoder: %s\n", e.what());
    std::exit(1);
  }
}

// kind: 'I' the Inserts alone, 'w' the Inserts each in an XLogData frame,
// '*' every message of the capture (Begin, Relation, Insert, Commit).
Stream load(char kind) {
  const testing::Capture capture = read_bench_capture();
  Stream stream;
  std::vector<std::size_t> starts;
  for (const testing::CapturedMessage& message : capture.messages) {
    const char type = static_cast<char>(message.bytes[0]);
    if (type == 'R' && stream.relation.empty()) stream.relation = message.bytes;
    if (kind != '*' && type != 'I') continue;
    starts.push_back(stream.bytes.size());
    if (kind == 'w') {
      stream.bytes.push_back(std::byte{'w'});
      for (const std::uint64_t field : {message.lsn.value, message.lsn.value + message.bytes.size(),
                                        std::uint64_t{757'479'845'000'000}}) {
        for (int i = 7; i >= 0; --i) {
          stream.bytes.push_back(std::byte{static_cast<std::uint8_t>(field >> (8 * i))});
        }
      }
    }
    stream.bytes.insert(stream.bytes.end(), message.bytes.begin(), message.bytes.end());
  }
  starts.push_back(stream.bytes.size());
  for (std::size_t i = 0; i + 1 < starts.size(); ++i) {
    stream.messages.emplace_back(stream.bytes.data() + starts[i], starts[i + 1] - starts[i]);
  }
  if (stream.relation.empty() || stream.messages.empty()) {
    std::fprintf(stderr, "bench_decoder: %s holds no Relation and Inserts\n", VIL_BENCH_CAPTURE);
    std::exit(1);
  }
  return stream;
}

Decoder primed_decoder(const Stream& stream) {
  Decoder decoder;
  if (!decoder.decode(stream.relation)) std::abort();
  return decoder;
}

std::size_t visit(const TupleView& tuple) {
  std::size_t total = 0;
  for (const ColumnValue& value : tuple)
    total += value.bytes.size() + static_cast<std::size_t>(value.kind);
  return total;
}

void count(benchmark::State& state, const Stream& stream) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * stream.messages.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.bytes.size()));
}

// The stateful decoder: relation lookup and column count check included.
void BM_DecodeInserts(benchmark::State& state) {
  const Stream stream = load('I');
  Decoder decoder = primed_decoder(stream);
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
  count(state, stream);
}
BENCHMARK(BM_DecodeInserts);

// Decoding plus every value converted to its typed form (int4, text, numeric,
// timestamptz, bool): what a consumer that wants typed rows pays.
void BM_DecodeInsertsTyped(benchmark::State& state) {
  const Stream stream = load('I');
  Decoder decoder = primed_decoder(stream);
  // Types looked up once per relation, as a consumer's cache would.
  const RelationSchema* relation = decoder.decode(stream.messages.front())->relation;
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
  count(state, stream);
}
BENCHMARK(BM_DecodeInsertsTyped);

// decode_message alone: no relation cache.
void BM_DecodeInsertsStateless(benchmark::State& state) {
  const Stream stream = load('I');
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
  count(state, stream);
}
BENCHMARK(BM_DecodeInsertsStateless);

// What the replication loop does per CopyData: frame, then message.
void BM_DecodeXLogDataInserts(benchmark::State& state) {
  const Stream stream = load('w');
  Decoder decoder = primed_decoder(stream);
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
  count(state, stream);
}
BENCHMARK(BM_DecodeXLogDataInserts);

// The whole capture as it came: Begin, Relation, Inserts, Commit.
void BM_DecodeCapturedStream(benchmark::State& state) {
  const Stream stream = load('*');
  Decoder decoder;
  for (auto _ : state) {
    for (const auto message : stream.messages) {
      auto decoded = decoder.decode(message);
      if (!decoded) {
        state.SkipWithError(decoded.error().message.c_str());
        return;
      }
      if (const auto* insert = std::get_if<Insert>(&decoded->message)) {
        benchmark::DoNotOptimize(visit(insert->new_tuple));
      }
    }
  }
  count(state, stream);
}
BENCHMARK(BM_DecodeCapturedStream);

// UTF-8 validation of every text value alone (values::convert does it for the
// text column).
void BM_ValidateUtf8Columns(benchmark::State& state) {
  const Stream stream = load('I');
  Decoder decoder = primed_decoder(stream);
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
  count(state, stream);
}
BENCHMARK(BM_ValidateUtf8Columns);

}  // namespace

BENCHMARK_MAIN();
