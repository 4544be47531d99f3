#include "vil/cdc/cdc_config.hpp"

#include <optional>

#include <fmt/format.h>
#include <libpq-fe.h>
#include <yaml-cpp/yaml.h>

#include "vil/replication/stream_settings.hpp"

namespace vil::cdc {

namespace {

constexpr size_t kMaxNameBytes = 63;  // PostgreSQL's NAMEDATALEN - 1

// The message names the field itself, so that whoever prints it prints it
// once and whole.
ConfigError field_error(std::string field, std::string_view message) {
  std::string text = field.empty() ? std::string(message) : fmt::format("{}: {}", field, message);
  return ConfigError{std::move(field), std::move(text)};
}

// Reads one scalar of `node` into `out`, naming the field when it has the wrong type.
template <class T>
std::expected<void, ConfigError> read_scalar(const YAML::Node& node, const std::string& field,
                                             T& out) {
  if (!node.IsScalar()) return std::unexpected(field_error(field, "must be a single value"));
  try {
    out = node.as<T>();
  } catch (const YAML::Exception&) {
    return std::unexpected(
        field_error(field, fmt::format("'{}' is not a valid value", node.Scalar())));
  }
  return {};
}

std::expected<void, ConfigError> read_millis(const YAML::Node& node, const std::string& field,
                                             std::chrono::milliseconds& out,
                                             bool zero_allowed = false) {
  int64_t ms = 0;
  if (auto r = read_scalar(node, field, ms); !r) return r;
  if (zero_allowed && ms < 0) {
    return std::unexpected(
        field_error(field, "must be a number of milliseconds, 0 or more (0: off)"));
  }
  if (!zero_allowed && ms <= 0)
    return std::unexpected(field_error(field, "must be a positive number of milliseconds"));
  out = std::chrono::milliseconds(ms);
  return {};
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

constexpr std::string_view kScopeValues =
    "use true or 'all' (every table), false (do not create it), or a list of tables "
    "(a YAML list or 'a, schema.b')";

// true/false as every other switch of the block reads them (yaml-cpp also
// takes yes/no, on/off); only a plain scalar, so a quoted "yes" stays a name.
std::optional<bool> plain_bool(const YAML::Node& node) {
  if (!node.IsScalar() || node.Tag() != "?") return std::nullopt;
  bool value = false;
  if (!YAML::convert<bool>::decode(node, value)) return std::nullopt;
  return value;
}

std::expected<void, ConfigError> read_publication_scope(const YAML::Node& node,
                                                        const std::string& field,
                                                        CdcConfig& config) {
  if (auto flag = plain_bool(node)) {
    config.create_publication = *flag;
    config.publication_scope = PublicationScope{};
    return {};
  }
  PublicationScope scope;
  if (node.IsScalar()) {
    scope = parse_publication_scope(node.Scalar());
  } else if (node.IsSequence()) {
    scope.all_tables = false;
    for (const auto& item : node) {
      if (!item.IsScalar()) {
        return std::unexpected(field_error(
            field, fmt::format("every item of the list must be a table name; {}", kScopeValues)));
      }
      std::string_view name = trimmed(item.Scalar());
      if (!name.empty()) scope.tables.emplace_back(name);
    }
  } else {
    return std::unexpected(field_error(field, fmt::format("has no value; {}", kScopeValues)));
  }
  if (!scope.all_tables && scope.tables.empty()) {
    return std::unexpected(field_error(field, fmt::format("names no table; {}", kScopeValues)));
  }
  config.create_publication = true;
  config.publication_scope = std::move(scope);
  return {};
}

std::expected<void, ConfigError> read_cdc_block(const YAML::Node& cdc, CdcConfig& config) {
  for (const auto& entry : cdc) {
    // `? [a, b] : 1` is valid YAML, but no option is named by a list.
    if (!entry.first.IsScalar()) {
      return std::unexpected(
          field_error("cdc", "every key must be an option name, not a list or a mapping"));
    }
    const std::string key = entry.first.Scalar();
    const std::string field = "cdc." + key;
    const YAML::Node& v = entry.second;
    std::expected<void, ConfigError> r;
    if (key == "conn_string")
      r = read_scalar(v, field, config.conn_string);
    else if (key == "slot_name")
      r = read_scalar(v, field, config.slot_name);
    else if (key == "publication")
      r = read_scalar(v, field, config.publication);
    else if (key == "create_slot")
      r = read_scalar(v, field, config.create_slot);
    else if (key == "temporary_slot")
      r = read_scalar(v, field, config.temporary_slot);
    else if (key == "failover")
      r = read_scalar(v, field, config.failover);
    else if (key == "log_changes")
      r = read_scalar(v, field, config.log_changes);
    else if (key == "create_publication")
      r = read_publication_scope(v, field, config);
    else if (key == "protocol_version")
      r = read_scalar(v, field, config.protocol_version);
    else if (key == "messages")
      r = read_scalar(v, field, config.messages);
    else if (key == "status_interval_ms")
      r = read_millis(v, field, config.status_interval);
    else if (key == "slot_check_interval_ms")
      r = read_millis(v, field, config.slot_check_interval, /*zero_allowed=*/true);
    else if (key == "reconnect_initial_ms")
      r = read_millis(v, field, config.reconnect.initial_backoff);
    else if (key == "reconnect_max_ms")
      r = read_millis(v, field, config.reconnect.max_backoff);
    else if (key == "reconnect_max_attempts")
      r = read_scalar(v, field, config.reconnect.max_attempts);
    else if (key == "application_name")
      r = read_scalar(v, field, config.application_name);
    else if (key == "snapshot_workers")
      r = read_scalar(v, field, config.snapshot_workers);
    else if (key == "max_in_flight")
      r = read_scalar(v, field, config.max_in_flight);
    else if (key == "max_in_flight_bytes")
      r = read_scalar(v, field, config.max_in_flight_bytes);
    else if (key == "snapshot_unit_blocks")
      r = read_scalar(v, field, config.snapshot_unit_blocks);
    else if (key == "snapshot_chunk_size")
      r = read_scalar(v, field, config.snapshot_chunk_size);
    else if (key == "snapshot_state")
      r = read_scalar(v, field, config.snapshot_state);
    else if (key == "streaming_memory_bytes")
      r = read_scalar(v, field, config.streaming_memory_bytes);
    else if (key == "spill_dir")
      r = read_scalar(v, field, config.spill_dir);
    else if (key == "streaming") {
      std::string text;
      r = read_scalar(v, field, text);
      if (r) {
        auto streaming = parse_streaming(text);
        if (!streaming) {
          return std::unexpected(
              field_error(field, fmt::format("'{}' is not one of off, on, parallel", text)));
        }
        config.streaming = *streaming;
      }
    } else if (key == "snapshot") {
      std::string text;
      r = read_scalar(v, field, text);
      if (r) {
        auto mode = parse_snapshot_mode(text);
        if (!mode) {
          return std::unexpected(
              field_error(field, fmt::format("'{}' is not one of never, initial, only", text)));
        }
        config.snapshot = *mode;
      }
    } else
      return std::unexpected(field_error(field, "is not a known option"));
    if (!r) return r;
  }
  return {};
}

// libpq's parse errors quote pieces of the string; a piece may be a password
// (a bad percent escape in a URI, say), so only keyword-like pieces survive.
std::string scrub_libpq_message(std::string_view message) {
  std::string out;
  size_t i = 0;
  while (i < message.size()) {
    size_t open = message.find('"', i);
    size_t close = open == std::string_view::npos ? open : message.find('"', open + 1);
    if (close == std::string_view::npos) {
      out.append(message.substr(i));
      break;
    }
    std::string_view piece = message.substr(open + 1, close - open - 1);
    bool keyword_like = !piece.empty() && piece.size() <= 30;
    for (char c : piece) keyword_like = keyword_like && ((c >= 'a' && c <= 'z') || c == '_');
    keyword_like = keyword_like || piece == "=";
    out.append(message.substr(i, open - i));
    out += keyword_like ? fmt::format("\"{}\"", piece) : std::string("\"<redacted>\"");
    i = close + 1;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

std::expected<CdcConfig, ConfigError> parse_cdc_config_yaml(std::string_view yaml,
                                                            ConfigCheck check) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return std::unexpected(
        field_error("", fmt::format("YAML syntax error at line {}, column {}: {}", e.mark.line + 1,
                                    e.mark.column + 1, e.msg)));
  }
  if (!root.IsMap() || !root["cdc"]) {
    return std::unexpected(field_error("cdc", "the document has no 'cdc:' block"));
  }
  const YAML::Node cdc = root["cdc"];
  if (!cdc.IsMap()) return std::unexpected(field_error("cdc", "must be a mapping of options"));
  CdcConfig config;
  if (auto r = read_cdc_block(cdc, config); !r) return std::unexpected(r.error());
  if (check == ConfigCheck::Complete) {
    if (auto r = validate(config); !r) return std::unexpected(r.error());
  }
  return config;
}

PublicationScope parse_publication_scope(std::string_view text) {
  if (trimmed(text) == "all") return PublicationScope{};
  PublicationScope scope{false, {}};
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = trimmed(text.substr(start, comma - start));
    if (!item.empty()) scope.tables.emplace_back(item);
    start = comma + 1;
  }
  return scope;
}

bool is_valid_slot_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::expected<void, ConfigError> validate(const CdcConfig& config) {
  if (config.conn_string.empty()) {
    return std::unexpected(field_error("cdc.conn_string", "is required"));
  }
  // A snapshot alone reads no slot.
  const bool needs_slot = config.snapshot != SnapshotMode::Only;
  if (needs_slot && config.slot_name.empty()) {
    return std::unexpected(field_error("cdc.slot_name", "is required"));
  }
  if (!config.slot_name.empty() && !is_valid_slot_name(config.slot_name)) {
    return std::unexpected(field_error(
        "cdc.slot_name", fmt::format("'{}' is not a valid slot name: use 1 to 63 of a-z, 0-9 and _",
                                     config.slot_name)));
  }
  if (config.publication.empty()) {
    return std::unexpected(field_error("cdc.publication", "is required"));
  }
  if (config.publication.size() > kMaxNameBytes ||
      config.publication.find('\0') != std::string::npos) {
    return std::unexpected(
        field_error("cdc.publication", "must be at most 63 bytes and contain no NUL"));
  }
  if (config.snapshot_workers < 1 || config.snapshot_workers > 64) {
    return std::unexpected(field_error("cdc.snapshot_workers", "must be between 1 and 64"));
  }
  if (config.max_in_flight < 1 || config.max_in_flight > 10'000'000) {
    return std::unexpected(field_error("cdc.max_in_flight", "must be between 1 and 10000000"));
  }
  if (config.max_in_flight_bytes < 1024 || config.max_in_flight_bytes > (16ull << 30)) {
    return std::unexpected(
        field_error("cdc.max_in_flight_bytes", "must be between 1024 and 17179869184"));
  }
  if (config.snapshot_unit_blocks < 1 || config.snapshot_unit_blocks > (1u << 20)) {
    return std::unexpected(
        field_error("cdc.snapshot_unit_blocks", "must be between 1 and 1048576"));
  }
  if (config.snapshot_chunk_size < 1 || config.snapshot_chunk_size > 1'000'000) {
    return std::unexpected(field_error("cdc.snapshot_chunk_size", "must be between 1 and 1000000"));
  }
  if (config.protocol_version > 4) {
    return std::unexpected(field_error(
        "cdc.protocol_version",
        fmt::format("{} is not a pgoutput protocol version (1 to 4, or 0 for the highest)",
                    config.protocol_version)));
  }
  if (config.streaming_memory_bytes < (64u << 10) ||
      config.streaming_memory_bytes > (16ull << 30)) {
    return std::unexpected(
        field_error("cdc.streaming_memory_bytes", "must be between 65536 and 17179869184"));
  }
  if (config.streaming == Streaming::Parallel && config.protocol_version != 0 &&
      config.protocol_version < 4) {
    return std::unexpected(
        field_error("cdc.streaming", "parallel needs protocol_version 4 (or 0, the highest)"));
  }
  if (config.temporary_slot && !config.create_slot) {
    return std::unexpected(
        field_error("cdc.temporary_slot", "needs create_slot: a temporary slot is always new"));
  }
  if (config.failover && config.temporary_slot) {
    return std::unexpected(field_error(
        "cdc.failover", "a temporary slot cannot be a failover slot: it goes with its session"));
  }
  // Timers of zero or less would make the trigger spin (status updates) or
  // hammer the server (reconnects).
  if (config.status_interval.count() <= 0) {
    return std::unexpected(
        field_error("cdc.status_interval_ms", "must be a positive number of milliseconds"));
  }
  if (config.slot_check_interval.count() < 0) {
    return std::unexpected(field_error("cdc.slot_check_interval_ms",
                                       "must be a number of milliseconds, 0 or more (0: off)"));
  }
  if (config.reconnect.initial_backoff.count() <= 0) {
    return std::unexpected(
        field_error("cdc.reconnect_initial_ms", "must be a positive number of milliseconds"));
  }
  if (config.reconnect.max_backoff.count() <= 0) {
    return std::unexpected(
        field_error("cdc.reconnect_max_ms", "must be a positive number of milliseconds"));
  }
  if (config.reconnect.max_backoff < config.reconnect.initial_backoff) {
    return std::unexpected(
        field_error("cdc.reconnect_max_ms", "must not be below reconnect_initial_ms"));
  }
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(config.conn_string.c_str(), &parse_error);
  if (options == nullptr) {
    std::string why = parse_error ? scrub_libpq_message(parse_error) : "out of memory";
    PQfreemem(parse_error);
    return std::unexpected(field_error("cdc.conn_string", why));
  }
  PQconninfoFree(options);
  return {};
}

std::string_view to_string(SnapshotMode mode) noexcept {
  switch (mode) {
    case SnapshotMode::Never:
      return "never";
    case SnapshotMode::Initial:
      return "initial";
    case SnapshotMode::Only:
      return "only";
  }
  return "never";
}

std::optional<SnapshotMode> parse_snapshot_mode(std::string_view text) noexcept {
  if (text == "never") return SnapshotMode::Never;
  if (text == "initial") return SnapshotMode::Initial;
  if (text == "only") return SnapshotMode::Only;
  return std::nullopt;
}

std::string_view to_string(Streaming streaming) noexcept {
  switch (streaming) {
    case Streaming::Off:
      return "off";
    case Streaming::On:
      return "on";
    case Streaming::Parallel:
      return "parallel";
  }
  return "on";
}

std::optional<Streaming> parse_streaming(std::string_view text) noexcept {
  if (text == "off") return Streaming::Off;
  if (text == "on") return Streaming::On;
  if (text == "parallel") return Streaming::Parallel;
  return std::nullopt;
}

std::string redact_conn_string(std::string_view conn_string) {
  return replication::redact_conn_string(conn_string);
}

}  // namespace vil::cdc
