#include "stream_command.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "database_name.hpp"
#include "exit_codes.hpp"
#include "metrics_server.hpp"
#include "progress_line.hpp"
#include "signal_watch.hpp"
#include "stderr_lines.hpp"
#include "stderr_log_sink.hpp"
#include "vil/cdc/cdc_trigger.hpp"
#include "vil/log/logger.hpp"
#include "vil/log/sink.hpp"
#include "vil/output/file_sink.hpp"
#include "vil/output/http_sink.hpp"
#include "vil/output/kafka_sink.hpp"
#include "vil/output/nats_sink.hpp"

namespace vil::cli {

namespace {

// Routes mq_log records as --log asks; closes the file at the end.
class LogDrain {
 public:
  std::expected<void, std::string> open(const StreamSettings& s) {
    if (s.log == "off") return {};
    if (s.log == "stderr") {
      log::logger().add_sink(
          std::make_unique<StderrLogSink>(s.log_format.value_or(log::LogFormat::Pretty)));
    } else {
      file_ = std::fopen(s.log.c_str(), "a");
      if (file_ == nullptr) {
        return std::unexpected(
            fmt::format("cannot open log file {}: {}", s.log, std::strerror(errno)));
      }
      log::logger().add_sink(
          std::make_unique<log::StreamSink>(s.log_format.value_or(log::LogFormat::Json), file_));
    }
    log::start_drain();
    active_ = true;
    return {};
  }
  ~LogDrain() {
    if (active_) {
      log::shutdown();
      log::logger().clear_sinks();
    }
    if (file_) std::fclose(file_);
  }

 private:
  std::FILE* file_ = nullptr;
  bool active_ = false;
};

// A fault's message on one line: libpq's own messages can span several
// ("...Connection refused\n\tIs the server running...").
std::string one_line(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') {
      out += text[i];
      continue;
    }
    while (i + 1 < text.size() && (text[i + 1] == '\t' || text[i + 1] == ' ' ||
                                   text[i + 1] == '\n' || text[i + 1] == '\r')) {
      ++i;
    }
    if (i + 1 < text.size()) out += ' ';
  }
  return out;
}

// After the stream was up and was lost, a fault that ends the run is the
// stream's (exit 5), whatever the last reconnect attempt ran into: the
// trigger counts a lost stream only once it had streamed, and ends with a
// retryable fault only when it gave up reconnecting. A fault no retry cures
// (the password changed, the slot was dropped) keeps its own code.
bool gave_up_reconnecting(const cdc::CdcFault& fault, const cdc::CdcTrigger& trigger) {
  return trigger.cdc_state().stream_errors != 0 && fault.is_retryable();
}

void print_line(const std::string& text) {
  stderr_lines().print("vil-cdc: " + text + "\n");
}

}  // namespace

int run_stream(const StreamSettings& settings, SignalWatch& signals) {
  // First, while no thread of this run exists: the lookup may set PGSERVICE
  // for a moment (database_name.hpp).
  const std::string database = settings.format == output::Format::Debezium
                                   ? database_name(settings.cdc.conn_string)
                                   : std::string();
  auto output = output::open_output_file(settings.output, settings.fsync);
  if (!output) {
    print_line(output.error());
    return ExitUsage;
  }
  struct CloseOutput {
    const output::OutputFile& file;
    ~CloseOutput() { output::close_output_file(file); }
  } close_on_return{*output};

  LogDrain log_drain;
  if (auto r = log_drain.open(settings); !r) {
    print_line(r.error());
    return ExitUsage;
  }

  // The per-row mq_log records are wanted only where --log sends them.
  cdc::CdcConfig cdc_config = settings.cdc;
  if (settings.log != "off") cdc_config.log_changes = true;
  cdc::CdcTrigger trigger(cdc_config);
  signals.set_action([&] { (void)trigger.stop(); });
  output::ChangeEncoderOptions encoder_options;
  encoder_options.format = settings.format;
  encoder_options.database = database;
  encoder_options.schemas = settings.debezium_schemas;
  // The file writer (stdout or --output), a receiver's URL (--sink http),
  // Kafka (--sink kafka) or a JetStream stream (--sink nats).
  std::unique_ptr<output::FileSink> writer;
  std::unique_ptr<output::HttpSink> http;
  std::unique_ptr<output::KafkaSink> kafka;
  std::unique_ptr<output::NatsSink> nats;
  const output::ChangeEncoder* encoder = nullptr;
  if (settings.sink == "kafka") {
    output::KafkaSinkOptions kafka_options;
    kafka_options.brokers = settings.kafka_brokers;
    kafka_options.topic_prefix = settings.topic_prefix;
    kafka_options.tombstones = settings.tombstones;
    kafka_options.properties = settings.kafka_properties;
    if (!settings.quiet) kafka_options.on_notice = print_line;
    kafka = std::make_unique<output::KafkaSink>(std::move(kafka_options),
                                                output::ChangeEncoder(encoder_options));
    if (auto configured = kafka->configure(); !configured) {
      print_line(configured.error());
      return ExitUsage;
    }
    // Brokers that are not there are the operator's to fix, as a server is.
    if (auto reachable = kafka->check(); !reachable) {
      print_line(reachable.error());
      return ExitConnection;
    }
    trigger.set_sink(kafka.get());
    encoder = &kafka->encoder();
  } else if (settings.sink == "nats") {
    output::NatsSinkOptions nats_options;
    nats_options.url = settings.nats_url;
    nats_options.stream = settings.nats_stream;
    nats_options.topic_prefix = settings.topic_prefix;
    nats_options.initial_backoff = settings.cdc.reconnect.initial_backoff;
    nats_options.max_backoff = settings.cdc.reconnect.max_backoff;
    nats = std::make_unique<output::NatsSink>(std::move(nats_options),
                                              output::ChangeEncoder(encoder_options));
    // A server that is not there, or a stream that cannot take the subjects,
    // is the operator's to fix, as a database is.
    if (auto ready = nats->check(); !ready) {
      print_line(ready.error());
      return ExitConnection;
    }
    trigger.set_sink(nats.get());
    encoder = &nats->encoder();
  } else if (settings.sink == "http") {
    output::HttpSinkOptions http_options;
    http_options.url = settings.http_url;
    http_options.batch_bytes = settings.http_batch_bytes;
    http_options.initial_backoff = settings.cdc.reconnect.initial_backoff;
    http_options.max_backoff = settings.cdc.reconnect.max_backoff;
    http = std::make_unique<output::HttpSink>(std::move(http_options),
                                              output::ChangeEncoder(encoder_options));
    // A receiver that is not there is the operator's to fix, as a server is.
    if (auto reachable = http->check(); !reachable) {
      print_line(reachable.error());
      return ExitConnection;
    }
    trigger.set_sink(http.get());
    encoder = &http->encoder();
  } else {
    writer = std::make_unique<output::FileSink>(
        output->fd, output->name, output::ChangeEncoder(encoder_options),
        output::FileSinkOptions{.fsync = settings.fsync,
                                .max_changes = settings.max_events,
                                .on_limit = [&] { (void)trigger.stop(); }});
    trigger.set_sink(writer.get());
    encoder = &writer->encoder();
  }
  if (!settings.quiet) trigger.on_notice([](const std::string& text) { print_line(text); });
  if (settings.end_lsn) trigger.stop_at(*settings.end_lsn);
  std::unique_ptr<MetricsServer> metrics;
  if (!settings.metrics_addr.empty()) {
    // resolve() checked it.
    const ListenAddress address = *parse_listen_address(settings.metrics_addr);
    auto started = MetricsServer::start(
        MetricsServerOptions{address, settings.cdc.slot_name, settings.sink,
                             std::chrono::milliseconds(settings.health_max_backpressure_ms)},
        trigger);
    if (!started) {
      print_line(started.error());
      return ExitUsage;
    }
    metrics = std::move(*started);
    // Port 0 asks for any free port: the one taken is worth saying anyway.
    if (!settings.quiet) {
      print_line(fmt::format("serving metrics at http://{}:{}/metrics and /healthz", address.host,
                             metrics->port()));
    }
  }

  std::expected<void, cdc::CdcFault> result;
  {
    ProgressLine progress(!settings.quiet && isatty(STDERR_FILENO), trigger, [&] {
      return writer ? writer->changes() : trigger.state().events_fired;
    });
    result = trigger.run();
  }
  signals.set_action({});
  // Written anyway, so said even when the run failed.
  if (const std::string summary = encoder->value_error_summary(); !summary.empty()) {
    print_line(summary);
  }
  if (!result) {
    if (writer && writer->reader_gone()) return ExitOk;
    const cdc::CdcFault& fault = result.error();
    if (metrics) metrics->set_fault(one_line(fault.message()));
    if (gave_up_reconnecting(fault, trigger)) {
      print_line(fmt::format("slot \"{}\": the stream was lost and could not be resumed: {}",
                             settings.cdc.slot_name, one_line(fault.message())));
      return ExitStream;
    }
    // A setting the server cannot honour ("cdc.failover: ... the server is
    // 16.4") is named by its flag too, as validate()'s errors are.
    const bool setting = fault.get<cdc::ConfigInvalid>() != nullptr;
    print_line(setting ? flag_named(one_line(fault.message())) : one_line(fault.message()));
    return exit_code_for(fault);
  }
  return ExitOk;
}

}  // namespace vil::cli
