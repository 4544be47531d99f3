#include "stream_settings.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "metrics_server.hpp"
#include "vil/output/broker_names.hpp"

namespace vil::cli {

namespace {

bool given(const CLI::App* command, const std::string& name) {
  return command->get_option(name)->count() > 0;
}

// An end LSN as --end-lsn or output.end_lsn (`name`) gives it. 0/0 is
// PostgreSQL's invalid LSN, and to the trigger "no end": refused rather than
// streaming for ever.
std::expected<pgoutput::Lsn, std::string> parse_end_lsn(const std::string& text,
                                                        std::string_view name) {
  auto lsn = pgoutput::parse_lsn(text);
  if (!lsn) {
    return std::unexpected(fmt::format("{}: '{}' is not an LSN like 0/1A2B3C4", name, text));
  }
  if (lsn->value == 0) {
    return std::unexpected(
        fmt::format("{}: '{}' is the invalid LSN; give a position after it", name, text));
  }
  return *lsn;
}

// The `output:` block of the YAML file: this program's own settings.
std::expected<void, std::string> read_output_block(const YAML::Node& block,
                                                   StreamSettings& settings) {
  if (!block) return {};
  if (!block.IsMap()) return std::unexpected("output: must be a mapping of options");
  for (const auto& entry : block) {
    if (!entry.first.IsScalar()) {
      return std::unexpected("output: every key must be an option name, not a list or a mapping");
    }
    const std::string key = entry.first.Scalar();
    const YAML::Node& v = entry.second;
    try {
      if (key == "format") {
        auto format = output::parse_format(v.as<std::string>());
        if (!format) {
          return std::unexpected(
              fmt::format("output.format: '{}' is not jsonl or debezium", v.as<std::string>()));
        }
        settings.format = *format;
      } else if (key == "path") {
        settings.output = v.as<std::string>();
      } else if (key == "sink") {
        settings.sink = v.as<std::string>();
      } else if (key == "http_url") {
        settings.http_url = v.as<std::string>();
      } else if (key == "http_batch_bytes") {
        settings.http_batch_bytes = v.as<uint64_t>();
      } else if (key == "kafka_brokers") {
        settings.kafka_brokers = v.as<std::string>();
      } else if (key == "kafka_properties") {
        if (!v.IsMap()) {
          return std::unexpected("output.kafka_properties: must be a mapping of name: value");
        }
        for (const auto& property : v) {
          settings.kafka_properties.emplace_back(property.first.as<std::string>(),
                                                 property.second.as<std::string>());
        }
      } else if (key == "nats_url") {
        settings.nats_url = v.as<std::string>();
      } else if (key == "nats_stream") {
        settings.nats_stream = v.as<std::string>();
      } else if (key == "topic_prefix") {
        settings.topic_prefix = v.as<std::string>();
      } else if (key == "tombstones") {
        settings.tombstones = v.as<bool>();
      } else if (key == "debezium_schemas") {
        settings.debezium_schemas = v.as<bool>();
      } else if (key == "fsync") {
        settings.fsync = v.as<bool>();
      } else if (key == "metrics_addr") {
        settings.metrics_addr = v.as<std::string>();
      } else if (key == "health_max_backpressure_ms") {
        settings.health_max_backpressure_ms = v.as<uint64_t>();
      } else if (key == "end_lsn") {
        auto lsn = parse_end_lsn(v.as<std::string>(), "output.end_lsn");
        if (!lsn) return std::unexpected(lsn.error());
        settings.end_lsn = *lsn;
      } else if (key == "max_events") {
        settings.max_events = v.as<uint64_t>();
      } else if (key == "quiet") {
        settings.quiet = v.as<bool>();
      } else if (key == "log") {
        settings.log = v.as<std::string>();
      } else if (key == "log_format") {
        auto format = log::parse_log_format(v.as<std::string>());
        if (!format) {
          return std::unexpected(
              fmt::format("output.log_format: '{}' is not pretty, compact, json or resolved",
                          v.as<std::string>()));
        }
        settings.log_format = format;
      } else {
        return std::unexpected(fmt::format("output.{} is not a known option", key));
      }
    } catch (const YAML::Exception&) {
      return std::unexpected(fmt::format("output.{}: '{}' is not a valid value", key,
                                         v.IsScalar() ? v.Scalar() : std::string("(not a value)")));
    }
  }
  return {};
}

std::expected<void, std::string> read_config_file(const std::string& path,
                                                  StreamSettings& settings) {
  std::ifstream in(path);
  if (!in) return std::unexpected(fmt::format("cannot read configuration file {}", path));
  std::stringstream text;
  text << in.rdbuf();
  auto cdc = cdc::parse_cdc_config_yaml(text.str(), cdc::ConfigCheck::AsWritten);
  // The message names its field already.
  if (!cdc) return std::unexpected(fmt::format("{}: {}", path, cdc.error().message));
  settings.cdc = std::move(*cdc);
  try {
    YAML::Node root = YAML::Load(text.str());
    for (const auto& entry : root) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "(a list or mapping)";
      if (key != "cdc" && key != "output") {
        return std::unexpected(
            fmt::format("{}: '{}' is not a known block (cdc, output)", path, key));
      }
    }
    if (auto r = read_output_block(root["output"], settings); !r) {
      return std::unexpected(fmt::format("{}: {}", path, r.error()));
    }
  } catch (const YAML::Exception& e) {
    return std::unexpected(fmt::format("{}: {}", path, e.what()));
  }
  return {};
}

}  // namespace

void StreamOptions::add_to(CLI::App& command) {
  command_ = &command;
  // Wide enough that most options keep their description on their own line.
  command.get_formatter()->column_width(36);
  command.add_option("--config", config_path_,
                     "YAML file with a `cdc:` block (and an optional `output:` block); flags "
                     "override it (default: none)");
  command.add_option("--conn", conn_, "libpq connection string (key=value or URI); required");
  command.add_option("--slot", slot_, "logical replication slot (plugin pgoutput); required");
  command.add_option("--publication", publication_, "publication to stream; required");
  // Each switch has a negation, so that a flag can turn off what the file turned on.
  command.add_flag("--create-slot,!--no-create-slot", create_slot_,
                   "create the slot if it does not exist");
  command.add_flag("--temporary-slot,!--no-temporary-slot", temporary_slot_,
                   "with --create-slot: a temporary slot, gone when the session ends");
  command.add_flag("--failover,!--no-failover", failover_,
                   "a failover slot (PostgreSQL 17+) that standbys with sync_replication_slots "
                   "keep a copy of; says whether the standbys of the connection string hold one");
  command.add_option("--create-publication", create_publication_,
                     "create the publication if it does not exist: 'all' or T1,T2,... "
                     "(default: not created)");
  command.add_option("--format", format_, "jsonl or debezium")->default_str("jsonl");
  command.add_option("--output,-o", output_, "file to append to, or - for stdout")
      ->default_str("-");
  command
      .add_option("--sink", sink_,
                  "where changes go: file (--output), http (--http-url), kafka "
                  "(--kafka-brokers) or nats (--nats-url)")
      ->default_str("file");
  command.add_option("--http-url", http_url_,
                     "with --sink http: POST batches of lines here (default: none)");
  command
      .add_option("--http-batch-bytes", http_batch_bytes_,
                  "with --sink http: a batch is cut once its lines reach this many bytes")
      ->default_str("1048576");
  command.add_option("--kafka-brokers", kafka_brokers_,
                     "with --sink kafka: bootstrap brokers HOST:PORT[,...] (default: none)");
  command.add_option(
      "--kafka-property", kafka_properties_,
      "with --sink kafka: a librdkafka property NAME=VALUE; repeatable (default: none)");
  command.add_option("--nats-url", nats_url_,
                     "with --sink nats: the NATS server, nats://[user:password@]HOST:PORT "
                     "(default: none)");
  command.add_option("--nats-stream", nats_stream_,
                     "with --sink nats: the JetStream stream, created when missing with subjects "
                     "P.> (default: none)");
  command.add_option("--topic-prefix", topic_prefix_,
                     "with a broker sink: P of the topics or subjects P.schema.table and "
                     "P._message (default: the slot's name)");
  command.add_flag("--tombstones,!--no-tombstones", tombstones_,
                   "with --sink kafka: a null-valued message after each delete (default: on)");
  command.add_flag("--debezium-schemas,!--no-debezium-schemas", debezium_schemas_,
                   "with --format debezium: Kafka Connect's schema block in each line and key");
  command.add_flag("--fsync,!--no-fsync", fsync_,
                   "fdatasync the output file before confirming to the server");
  command.add_option("--end-lsn", end_lsn_,
                     "write every transaction that committed at or before this LSN (X/Y), then "
                     "exit 0 (default: none)");
  command.add_option("--max-events", max_events_, "exit 0 after this many changes (0: no limit)")
      ->default_str("0");
  command.add_flag("--quiet,-q,!--no-quiet", quiet_, "no progress line and no notices on stderr");
  command.add_option("--log", log_, "mq_log records: off, stderr, or a file path")
      ->default_str("off");
  command.add_option("--metrics-addr", metrics_addr_,
                     "serve Prometheus metrics at /metrics and a health check at /healthz on "
                     "HOST:PORT (default: none)");
  command
      .add_option("--health-max-backpressure-ms", health_max_backpressure_ms_,
                  "/healthz answers 503 once the destination has held the stream back this long")
      ->default_str("60000");
  command.add_option("--log-format", log_format_,
                     "pretty, compact, json or resolved (default: pretty on stderr, json in a "
                     "file)");
  command
      .add_option("--snapshot", snapshot_,
                  "never, initial (the rows that exist when --create-slot creates the slot, "
                  "then the stream) or only (the rows that exist now, then exit; no slot)")
      ->default_str("never");
  command
      .add_option("--snapshot-workers", snapshot_workers_,
                  "connections reading a snapshot at once (1-64)")
      ->default_str("1");
  command
      .add_option("--snapshot-unit-blocks", snapshot_unit_blocks_,
                  "heap blocks a snapshot worker reads at once from a large table (1-1048576)")
      ->default_str("4096");
  command
      .add_option("--snapshot-chunk-size", snapshot_chunk_size_,
                  "rows an incremental snapshot reads between two watermarks (1-1000000)")
      ->default_str("4096");
  command.add_option("--snapshot-state", snapshot_state_,
                     "file keeping incremental snapshots' progress across runs (default: "
                     "$XDG_STATE_HOME/vil-cdc/SLOT.snapshot.json)");
  command
      .add_option("--protocol-version", protocol_version_,
                  "pgoutput protocol 1-4 (0: the highest the server speaks)")
      ->default_str("0");
  command
      .add_option("--streaming", streaming_,
                  "off, on or parallel (PostgreSQL 16+): the server streams a transaction larger "
                  "than its logical_decoding_work_mem as it goes instead of spilling it to its "
                  "disk; each is still delivered whole at its commit")
      ->default_str("on");
  command
      .add_option("--streaming-memory-bytes", streaming_memory_bytes_,
                  "what streamed transactions still open keep in memory together; past it the "
                  "largest goes to a spill file")
      ->default_str("16777216");
  command.add_option("--spill-dir", spill_dir_,
                     "folder for spill files, which have no name there and go with the process "
                     "(default: $TMPDIR, else /tmp)");
  command.add_flag("--no-messages", no_messages_,
                   "do not deliver pg_logical_emit_message messages");
  command
      .add_option("--status-interval-ms", status_interval_ms_,
                  "standby status update period (at most half of wal_sender_timeout)")
      ->default_str("10000");
  command
      .add_option("--slot-check-interval-ms", slot_check_interval_ms_,
                  "how often the server is asked for its WAL end and the slot's wal_status "
                  "(0: never)")
      ->default_str("2000");
  command
      .add_option("--reconnect-initial-ms", reconnect_initial_ms_,
                  "first wait before reconnecting after a lost connection")
      ->default_str("500");
  command.add_option("--reconnect-max-ms", reconnect_max_ms_, "longest wait between reconnects")
      ->default_str("30000");
  command
      .add_option("--reconnect-max-attempts", reconnect_max_attempts_,
                  "consecutive failed reconnects before giving up (0: never)")
      ->default_str("0");
}

namespace {

// A period given as a flag: the YAML keys refuse 0 and negative numbers, and
// so do the flags.
std::expected<std::chrono::milliseconds, std::string> positive_millis(int64_t value,
                                                                      std::string_view flag) {
  if (value <= 0) {
    return std::unexpected(
        fmt::format("{}: must be a positive number of milliseconds (got {})", flag, value));
  }
  return std::chrono::milliseconds(value);
}

// validate()'s message starts with the YAML key; a person at the command line
// is told the flag too: "--slot (cdc.slot_name): is required".
std::string with_flag(const cdc::ConfigError& error) {
  if (!error.message.starts_with(error.field)) return error.message;
  return flag_named(error.message);
}

}  // namespace

std::string flag_named(const std::string& message) {
  static const std::pair<std::string_view, std::string_view> kFlags[] = {
      {"cdc.conn_string", "--conn"},
      {"cdc.slot_name", "--slot"},
      {"cdc.publication", "--publication"},
      {"cdc.create_slot", "--create-slot"},
      {"cdc.temporary_slot", "--temporary-slot"},
      {"cdc.create_publication", "--create-publication"},
      {"cdc.protocol_version", "--protocol-version"},
      {"cdc.snapshot", "--snapshot"},
      {"cdc.snapshot_workers", "--snapshot-workers"},
      {"cdc.snapshot_chunk_size", "--snapshot-chunk-size"},
      {"cdc.snapshot_unit_blocks", "--snapshot-unit-blocks"},
      {"cdc.snapshot_state", "--snapshot-state"},
      {"cdc.status_interval_ms", "--status-interval-ms"},
      {"cdc.slot_check_interval_ms", "--slot-check-interval-ms"},
      {"cdc.reconnect_initial_ms", "--reconnect-initial-ms"},
      {"cdc.reconnect_max_ms", "--reconnect-max-ms"},
      {"cdc.reconnect_max_attempts", "--reconnect-max-attempts"},
      {"cdc.failover", "--failover"},
      {"cdc.streaming_memory_bytes", "--streaming-memory-bytes"},
      {"cdc.streaming", "--streaming"},
      {"cdc.spill_dir", "--spill-dir"}};
  for (const auto& [key, flag] : kFlags) {
    if (message.starts_with(key) && message.size() > key.size() && message[key.size()] == ':') {
      return fmt::format("{} ({}){}", flag, key, message.substr(key.size()));
    }
  }
  return message;
}

namespace {

// $XDG_STATE_HOME/vil-cdc/SLOT.snapshot.json ($HOME/.local/state when
// XDG_STATE_HOME is not set); empty (progress in memory) without a slot or a
// home.
std::string default_snapshot_state(const std::string& slot) {
  if (slot.empty()) return {};
  const char* state_home = std::getenv("XDG_STATE_HOME");
  if (state_home != nullptr && state_home[0] == '/') {
    return fmt::format("{}/vil-cdc/{}.snapshot.json", state_home, slot);
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || home[0] != '/') return {};
  return fmt::format("{}/.local/state/vil-cdc/{}.snapshot.json", home, slot);
}

}  // namespace

std::expected<StreamSettings, std::string> StreamOptions::resolve() const {
  StreamSettings s;
  if (!config_path_.empty()) {
    if (auto r = read_config_file(config_path_, s); !r) return std::unexpected(r.error());
  }
  auto& c = s.cdc;
  if (given(command_, "--conn")) c.conn_string = conn_;
  if (given(command_, "--slot")) c.slot_name = slot_;
  if (given(command_, "--publication")) c.publication = publication_;
  if (given(command_, "--create-slot")) c.create_slot = create_slot_;
  if (given(command_, "--temporary-slot")) c.temporary_slot = temporary_slot_;
  if (given(command_, "--failover")) c.failover = failover_;
  if (given(command_, "--create-publication")) {
    c.create_publication = true;
    c.publication_scope = cdc::parse_publication_scope(create_publication_);
    if (!c.publication_scope.all_tables && c.publication_scope.tables.empty()) {
      return std::unexpected(fmt::format(
          "--create-publication: '{}' names no table (use 'all' or T1,T2)", create_publication_));
    }
  }
  if (given(command_, "--protocol-version")) c.protocol_version = protocol_version_;
  if (given(command_, "--snapshot")) {
    auto mode = cdc::parse_snapshot_mode(snapshot_);
    if (!mode) {
      return std::unexpected(
          fmt::format("--snapshot: '{}' is not one of never, initial, only", snapshot_));
    }
    c.snapshot = *mode;
  }
  if (given(command_, "--snapshot-workers")) c.snapshot_workers = snapshot_workers_;
  if (given(command_, "--snapshot-chunk-size")) c.snapshot_chunk_size = snapshot_chunk_size_;
  if (given(command_, "--snapshot-unit-blocks")) c.snapshot_unit_blocks = snapshot_unit_blocks_;
  if (given(command_, "--snapshot-state")) c.snapshot_state = snapshot_state_;
  if (given(command_, "--streaming")) {
    auto streaming = cdc::parse_streaming(streaming_);
    if (!streaming) {
      return std::unexpected(
          fmt::format("--streaming: '{}' is not one of off, on, parallel", streaming_));
    }
    c.streaming = *streaming;
  }
  if (given(command_, "--streaming-memory-bytes")) {
    c.streaming_memory_bytes = streaming_memory_bytes_;
  }
  if (given(command_, "--spill-dir")) c.spill_dir = spill_dir_;
  if (no_messages_) c.messages = false;
  if (given(command_, "--status-interval-ms")) {
    auto ms = positive_millis(status_interval_ms_, "--status-interval-ms");
    if (!ms) return std::unexpected(ms.error());
    c.status_interval = *ms;
  }
  if (given(command_, "--slot-check-interval-ms")) {
    if (slot_check_interval_ms_ < 0) {
      return std::unexpected(fmt::format(
          "--slot-check-interval-ms: must be a number of milliseconds, 0 or more (got {})",
          slot_check_interval_ms_));
    }
    c.slot_check_interval = std::chrono::milliseconds(slot_check_interval_ms_);
  }
  if (given(command_, "--reconnect-initial-ms")) {
    auto ms = positive_millis(reconnect_initial_ms_, "--reconnect-initial-ms");
    if (!ms) return std::unexpected(ms.error());
    c.reconnect.initial_backoff = *ms;
  }
  if (given(command_, "--reconnect-max-ms")) {
    auto ms = positive_millis(reconnect_max_ms_, "--reconnect-max-ms");
    if (!ms) return std::unexpected(ms.error());
    c.reconnect.max_backoff = *ms;
  }
  if (given(command_, "--reconnect-max-attempts")) {
    c.reconnect.max_attempts = reconnect_max_attempts_;
  }
  if (auto valid = cdc::validate(c); !valid) return std::unexpected(with_flag(valid.error()));
  if (c.snapshot_state.empty() && !given(command_, "--snapshot-state")) {
    c.snapshot_state = default_snapshot_state(c.slot_name);
  }

  if (given(command_, "--format")) {
    auto format = output::parse_format(format_);
    if (!format) {
      return std::unexpected(fmt::format("--format: '{}' is not jsonl or debezium", format_));
    }
    s.format = *format;
  }
  if (given(command_, "--output")) s.output = output_;
  if (given(command_, "--sink")) s.sink = sink_;
  if (given(command_, "--http-url")) s.http_url = http_url_;
  if (given(command_, "--http-batch-bytes")) s.http_batch_bytes = http_batch_bytes_;
  if (given(command_, "--kafka-brokers")) s.kafka_brokers = kafka_brokers_;
  for (const std::string& property : kafka_properties_) {
    const size_t equals = property.find('=');
    if (equals == 0 || equals == std::string::npos) {
      return std::unexpected(
          fmt::format("--kafka-property: '{}' is not NAME=VALUE",
                      property.substr(0, std::min(equals, property.size()))));  // never the value
    }
    s.kafka_properties.emplace_back(property.substr(0, equals), property.substr(equals + 1));
  }
  if (given(command_, "--nats-url")) s.nats_url = nats_url_;
  if (given(command_, "--nats-stream")) s.nats_stream = nats_stream_;
  if (given(command_, "--topic-prefix")) s.topic_prefix = topic_prefix_;
  if (given(command_, "--tombstones")) s.tombstones = tombstones_;
  if (given(command_, "--debezium-schemas")) s.debezium_schemas = debezium_schemas_;
  if (given(command_, "--fsync")) s.fsync = fsync_;
  if (given(command_, "--metrics-addr")) s.metrics_addr = metrics_addr_;
  if (given(command_, "--health-max-backpressure-ms")) {
    s.health_max_backpressure_ms = health_max_backpressure_ms_;
  }
  if (!s.metrics_addr.empty() && !parse_listen_address(s.metrics_addr)) {
    return std::unexpected(fmt::format(
        "--metrics-addr: '{}' is not HOST:PORT (e.g. 127.0.0.1:9187, [::1]:9187, 0.0.0.0:9187)",
        s.metrics_addr));
  }
  if (s.health_max_backpressure_ms == 0) {
    return std::unexpected("--health-max-backpressure-ms: must be at least 1");
  }
  if (given(command_, "--end-lsn")) {
    auto lsn = parse_end_lsn(end_lsn_, "--end-lsn");
    if (!lsn) return std::unexpected(lsn.error());
    s.end_lsn = *lsn;
  }
  if (given(command_, "--max-events")) s.max_events = max_events_;
  if (given(command_, "--quiet")) s.quiet = quiet_;
  if (given(command_, "--log")) s.log = log_;
  if (given(command_, "--log-format")) {
    auto format = log::parse_log_format(log_format_);
    if (!format) {
      return std::unexpected(
          fmt::format("--log-format: '{}' is not pretty, compact, json or resolved", log_format_));
    }
    s.log_format = format;
  }
  static constexpr std::array kSinks{"file", "http", "kafka", "nats"};
  if (std::ranges::find(kSinks, s.sink) == kSinks.end()) {
    return std::unexpected(
        fmt::format("--sink: '{}' is not one of {}", s.sink, fmt::join(kSinks, ", ")));
  }
  if (s.sink != "file" && (s.max_events != 0 || s.output != "-" || s.fsync)) {
    return std::unexpected(fmt::format(
        "--sink {}: --output, --fsync and --max-events are the file sink's options", s.sink));
  }
  if (s.debezium_schemas && s.format != output::Format::Debezium) {
    return std::unexpected("--debezium-schemas: needs --format debezium");
  }
  if (s.sink == "kafka") {
    if (s.kafka_brokers.empty()) return std::unexpected("--sink kafka needs --kafka-brokers");
  } else if (!s.kafka_properties.empty()) {
    return std::unexpected("--kafka-property: only with --sink kafka");
  }
  if (s.sink == "http") {
    if (s.http_url.empty()) return std::unexpected("--sink http needs --http-url");
    if (!s.http_url.starts_with("http://") && !s.http_url.starts_with("https://")) {
      return std::unexpected("--http-url: must start with http:// or https://");
    }
    if (s.http_batch_bytes == 0) return std::unexpected("--http-batch-bytes: must be at least 1");
  }
  if (s.sink == "nats") {
    if (s.nats_url.empty()) return std::unexpected("--sink nats needs --nats-url");
    if (s.nats_stream.empty()) return std::unexpected("--sink nats needs --nats-stream");
    if (!s.nats_url.starts_with("nats://")) {
      return std::unexpected("--nats-url: must start with nats://");
    }
    if (s.nats_stream.find_first_of(". *>/\\\t") != std::string::npos) {
      return std::unexpected(
          fmt::format("--nats-stream: '{}' must not hold '.', '*', '>', '/', '\\' or white space",
                      s.nats_stream));
    }
  }
  if (s.topic_prefix.empty()) s.topic_prefix = c.slot_name;
  if (s.sink == "kafka" || s.sink == "nats") {
    if (std::string problem = output::check_topic_prefix(s.topic_prefix); !problem.empty()) {
      return std::unexpected(fmt::format("--topic-prefix: {}", problem));
    }
  }
  return s;
}

}  // namespace vil::cli
