#include "stream_settings.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

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
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& v = entry.second;
    try {
      if (key == "format") {
        auto format = parse_format(v.as<std::string>());
        if (!format) {
          return std::unexpected(
              fmt::format("output.format: '{}' is not jsonl or debezium", v.as<std::string>()));
        }
        settings.format = *format;
      } else if (key == "path") {
        settings.output = v.as<std::string>();
      } else if (key == "fsync") {
        settings.fsync = v.as<bool>();
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
        settings.log_format = *format;
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
  if (!cdc) {
    const auto& e = cdc.error();
    return std::unexpected(e.field.empty() ? fmt::format("{}: {}", path, e.message)
                                           : fmt::format("{}: {} {}", path, e.field, e.message));
  }
  settings.cdc = std::move(*cdc);
  try {
    YAML::Node root = YAML::Load(text.str());
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
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

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

std::optional<output::Format> parse_format(std::string_view name) {
  if (name == "jsonl" || name == "json") return output::Format::JsonLines;
  if (name == "debezium") return output::Format::Debezium;
  return std::nullopt;
}

void StreamOptions::add_to(CLI::App& command) {
  command_ = &command;
  command.add_option("--config", config_path_,
                     "YAML file with a `cdc:` block (and an optional `output:` block); flags "
                     "override it");
  command.add_option("--conn", conn_, "libpq connection string (key=value or URI); required");
  command.add_option("--slot", slot_, "logical replication slot (plugin pgoutput); required");
  command.add_option("--publication", publication_, "publication to stream; required");
  command.add_flag("--create-slot", create_slot_, "create the slot if it does not exist");
  command.add_flag("--temporary-slot", temporary_slot_,
                   "with --create-slot: a temporary slot, gone when the session ends");
  command.add_option("--create-publication", create_publication_,
                     "create the publication if it does not exist: 'all' or T1,T2,...");
  command.add_option("--format", format_, "jsonl or debezium")->default_str("jsonl");
  command.add_option("--output,-o", output_, "file to append to, or - for stdout")
      ->default_str("-");
  command.add_flag("--fsync", fsync_, "fdatasync the output file before confirming to the server");
  command.add_option("--end-lsn", end_lsn_,
                     "write every transaction that committed at or before this LSN (X/Y), then "
                     "exit 0");
  command.add_option("--max-events", max_events_, "exit 0 after this many changes (0: no limit)")
      ->default_str("0");
  command.add_flag("--quiet,-q", quiet_, "no progress line and no notices on stderr");
  command.add_option("--log", log_, "mq_log records: off, stderr, or a file path")
      ->default_str("off");
  command.add_option(
      "--log-format", log_format_,
      "pretty, compact, json or resolved (default: pretty on stderr, json in a file)");
  command
      .add_option("--protocol-version", protocol_version_,
                  "pgoutput protocol 1-4 (0: the highest the server speaks)")
      ->default_str("0");
  command.add_flag("--no-messages", no_messages_,
                   "do not deliver pg_logical_emit_message messages");
  command
      .add_option("--status-interval-ms", status_interval_ms_,
                  "standby status update period (at most half of wal_sender_timeout)")
      ->default_str("10000");
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

std::expected<StreamSettings, std::string> StreamOptions::resolve() const {
  StreamSettings s;
  if (!config_path_.empty()) {
    if (auto r = read_config_file(config_path_, s); !r) return std::unexpected(r.error());
  }
  auto& c = s.cdc;
  if (given(command_, "--conn")) c.conn_string = conn_;
  if (given(command_, "--slot")) c.slot_name = slot_;
  if (given(command_, "--publication")) c.publication = publication_;
  if (create_slot_) c.create_slot = true;
  if (temporary_slot_) c.temporary_slot = true;
  if (given(command_, "--create-publication")) {
    c.create_publication = true;
    c.publication_scope = create_publication_ == "all"
                              ? cdc::PublicationScope{}
                              : cdc::PublicationScope{false, split_list(create_publication_)};
    if (!c.publication_scope.all_tables && c.publication_scope.tables.empty()) {
      return std::unexpected("--create-publication names no table (use 'all' or T1,T2)");
    }
  }
  if (given(command_, "--protocol-version")) c.protocol_version = protocol_version_;
  if (no_messages_) c.messages = false;
  if (given(command_, "--status-interval-ms")) {
    c.status_interval = std::chrono::milliseconds(status_interval_ms_);
  }
  if (given(command_, "--reconnect-initial-ms")) {
    c.reconnect.initial_backoff = std::chrono::milliseconds(reconnect_initial_ms_);
  }
  if (given(command_, "--reconnect-max-ms")) {
    c.reconnect.max_backoff = std::chrono::milliseconds(reconnect_max_ms_);
  }
  if (given(command_, "--reconnect-max-attempts")) {
    c.reconnect.max_attempts = reconnect_max_attempts_;
  }
  if (c.status_interval.count() <= 0)
    return std::unexpected("--status-interval-ms must be positive");
  if (auto valid = cdc::validate(c); !valid) {
    std::string field = valid.error().field;
    // Name the flag the user can reach for, not only the YAML key.
    static const std::pair<const char*, const char*> kFlags[] = {
        {"cdc.conn_string", "--conn"},
        {"cdc.slot_name", "--slot"},
        {"cdc.publication", "--publication"},
        {"cdc.temporary_slot", "--temporary-slot"},
        {"cdc.protocol_version", "--protocol-version"}};
    for (const auto& [key, flag] : kFlags) {
      if (field == key) field = fmt::format("{} ({})", flag, key);
    }
    return std::unexpected(fmt::format("{} {}", field, valid.error().message));
  }

  if (given(command_, "--format")) {
    auto format = parse_format(format_);
    if (!format)
      return std::unexpected(fmt::format("--format: '{}' is not jsonl or debezium", format_));
    s.format = *format;
  }
  if (given(command_, "--output")) s.output = output_;
  if (fsync_) s.fsync = true;
  if (given(command_, "--end-lsn")) {
    auto lsn = parse_end_lsn(end_lsn_, "--end-lsn");
    if (!lsn) return std::unexpected(lsn.error());
    s.end_lsn = *lsn;
  }
  if (given(command_, "--max-events")) s.max_events = max_events_;
  if (quiet_) s.quiet = true;
  if (given(command_, "--log")) s.log = log_;
  if (given(command_, "--log-format")) {
    auto format = log::parse_log_format(log_format_);
    if (!format) {
      return std::unexpected(
          fmt::format("--log-format: '{}' is not pretty, compact, json or resolved", log_format_));
    }
    s.log_format = *format;
  }
  return s;
}

}  // namespace vil::cli
