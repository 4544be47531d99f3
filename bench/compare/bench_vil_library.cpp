// bench_vil_library: the side-by-side benchmark's library consumer. It reads a
// slot through CdcTrigger up to an end LSN and touches every column of every
// row (kind and bytes; with --typed also the typed value), so the figures are
// those of "every row fully decoded" with nothing else on top.
//
//   bench_vil_library --conn C --slot S --publication P --end-lsn X/Y [--typed]
//   bench_vil_library ... --stop-table T --latency-out FILE   (the latency run)
//
// Prints one JSON object on stdout: rows, transactions, columns, bytes, a
// checksum (so the work cannot be optimised away) and the typed-value errors.

#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vil/cdc/cdc_trigger.hpp"
#include "vil/values/convert.hpp"

namespace {

struct Options {
  std::string conn;
  std::string slot;
  std::string publication;
  std::string end_lsn;
  std::string stop_table;
  std::string latency_out;
  uint32_t protocol_version = 1;
  vil::cdc::Streaming streaming = vil::cdc::CdcConfig{}.streaming;  // the library's default
  bool typed = false;
};

int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

class TouchingSink final : public vil::cdc::ChangeSink {
 public:
  TouchingSink(const Options& options, vil::cdc::CdcTrigger& trigger)
      : options_(options), trigger_(trigger) {
    if (!options_.latency_out.empty()) latencies_ns_.reserve(1 << 20);
  }

  void on_change(const vil::cdc::Change& change) override {
    if (!options_.latency_out.empty()) {
      latencies_ns_.push_back(realtime_ns() - change.commit_time_ns);
    }
    ++rows_;
    touch(change, change.old_tuple);
    touch(change, change.new_tuple);
    if (!options_.stop_table.empty() && change.relation != nullptr &&
        change.relation->name == options_.stop_table) {
      (void)trigger_.stop();
    }
  }

  void on_commit(const vil::cdc::TransactionEnd& /*transaction*/) override { ++transactions_; }

  void print_summary() const {
    const vil::cdc::TriggerMetrics metrics = trigger_.metrics();
    std::printf(
        "{\"rows\": %llu, \"transactions\": %llu, \"columns\": %llu, \"bytes\": %llu, "
        "\"checksum\": %llu, \"typed_errors\": %llu, \"streamed_transactions\": %llu, "
        "\"streamed_spilled_bytes\": %llu}\n",
        static_cast<unsigned long long>(rows_), static_cast<unsigned long long>(transactions_),
        static_cast<unsigned long long>(columns_), static_cast<unsigned long long>(bytes_),
        static_cast<unsigned long long>(checksum_), static_cast<unsigned long long>(typed_errors_),
        static_cast<unsigned long long>(metrics.streamed.committed),
        static_cast<unsigned long long>(metrics.streamed.spilled_bytes));
  }

  bool write_latencies() const {
    if (options_.latency_out.empty()) return true;
    std::FILE* out = std::fopen(options_.latency_out.c_str(), "w");
    if (out == nullptr) return false;
    for (int64_t ns : latencies_ns_) std::fprintf(out, "%lld\n", static_cast<long long>(ns / 1000));
    return std::fclose(out) == 0;
  }

 private:
  void touch(const vil::cdc::Change& change, const vil::pgoutput::TupleView& tuple) {
    size_t index = 0;
    for (const auto& column : tuple) {
      ++columns_;
      checksum_ += static_cast<uint64_t>(column.kind);
      if (column.has_value()) {
        const auto text = column.text();
        bytes_ += text.size();
        if (!text.empty()) {
          checksum_ +=
              static_cast<unsigned char>(text.front()) + static_cast<unsigned char>(text.back());
        }
        if (options_.typed && change.relation != nullptr &&
            index < change.relation->columns.size()) {
          auto value = vil::values::convert(change.relation->columns[index].type_oid, text);
          if (value) {
            checksum_ += value->index();
          } else {
            ++typed_errors_;
          }
        }
      }
      ++index;
    }
  }

  const Options& options_;
  vil::cdc::CdcTrigger& trigger_;
  uint64_t rows_ = 0;
  uint64_t transactions_ = 0;
  uint64_t columns_ = 0;
  uint64_t bytes_ = 0;
  uint64_t checksum_ = 0;
  uint64_t typed_errors_ = 0;
  std::vector<int64_t> latencies_ns_;
};

[[noreturn]] void usage(const std::string& message) {
  std::fprintf(stderr,
               "bench_vil_library: %s\n"
               "usage: bench_vil_library --conn C --slot S --publication P "
               "(--end-lsn X/Y | --stop-table T) [--typed] [--latency-out FILE] "
               "[--protocol-version N] [--streaming off|on|parallel]\n",
               message.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(fmt::format("{} needs a value", arg));
      return argv[++i];
    };
    if (arg == "--conn")
      options.conn = value();
    else if (arg == "--slot")
      options.slot = value();
    else if (arg == "--publication")
      options.publication = value();
    else if (arg == "--end-lsn")
      options.end_lsn = value();
    else if (arg == "--stop-table")
      options.stop_table = value();
    else if (arg == "--latency-out")
      options.latency_out = value();
    else if (arg == "--protocol-version")
      options.protocol_version = static_cast<uint32_t>(std::stoul(value()));
    else if (arg == "--typed")
      options.typed = true;
    else if (arg == "--streaming") {
      const std::string text = value();
      auto streaming = vil::cdc::parse_streaming(text);
      if (!streaming) usage(fmt::format("--streaming: '{}' is not one of off, on, parallel", text));
      options.streaming = *streaming;
    } else
      usage(fmt::format("unknown argument '{}'", arg));
  }
  if (options.conn.empty() || options.slot.empty() || options.publication.empty()) {
    usage("--conn, --slot and --publication are required");
  }
  if (options.end_lsn.empty() == options.stop_table.empty()) {
    usage("give one of --end-lsn and --stop-table");
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  vil::cdc::CdcConfig config;
  config.conn_string = options.conn;
  config.slot_name = options.slot;
  config.publication = options.publication;
  config.protocol_version = options.protocol_version;
  config.streaming = options.streaming;
  config.application_name = "bench_vil_library";

  vil::cdc::CdcTrigger trigger(config);
  TouchingSink sink(options, trigger);
  trigger.set_sink(&sink);
  if (!options.end_lsn.empty()) {
    auto end = vil::pgoutput::parse_lsn(options.end_lsn);
    if (!end) usage(fmt::format("--end-lsn: '{}' is not an LSN like 0/1A2B3C4", options.end_lsn));
    trigger.stop_at(*end);
  }
  auto done = trigger.run();
  if (!done) {
    std::fprintf(stderr, "bench_vil_library: %s\n", done.error().message().c_str());
    return 1;
  }
  sink.print_summary();
  if (!sink.write_latencies()) {
    std::fprintf(stderr, "bench_vil_library: cannot write %s: %s\n", options.latency_out.c_str(),
                 std::strerror(errno));
    return 1;
  }
  return 0;
}
