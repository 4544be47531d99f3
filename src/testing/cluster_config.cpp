#include "cluster_config.hpp"

#include <fmt/format.h>

#include "server_tls.hpp"

namespace vil::testing::detail {
namespace {

// postgresql.conf's quoted string: backslash escapes apply inside quotes.
std::string conf_value(std::string_view value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') out += c;
    out += c;
  }
  out += '\'';
  return out;
}

void check_setting(std::string_view key, std::string_view value) {
  bool ok = !key.empty();
  for (const char c : key) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.';
    ok = ok && word;
  }
  if (!ok) throw ClusterError(fmt::format("invalid postgresql.conf setting name '{}'", key));
  if (value.find_first_of("\n\r") != std::string_view::npos) {
    throw ClusterError(fmt::format("the value of setting '{}' contains a line break", key));
  }
}

}  // namespace

std::string postgresql_conf(const ClusterOptions& opts, const std::filesystem::path& socket_dir) {
  std::vector<std::pair<std::string, std::string>> lines = {
      {"listen_addresses", "127.0.0.1"},
      {"unix_socket_directories", socket_dir.string()},
      {"wal_level", "logical"},
      {"max_replication_slots", std::to_string(opts.max_replication_slots)},
      {"max_wal_senders", std::to_string(opts.max_wal_senders)},
      // Deterministic text for tests: times in UTC, messages untranslated.
      {"timezone", "UTC"},
      {"log_timezone", "UTC"},
      {"lc_messages", "C"},
      {"datestyle", "ISO, MDY"},
      // The log is read by people chasing a failed test: who, when, what.
      {"logging_collector", "off"},
      {"log_line_prefix", "%m [%p] %q%u@%d %a: "},
      {"log_min_messages", "warning"},
      {"log_replication_commands", "on"},
      {"log_checkpoints", "off"},
  };
  if (!opts.durable) {
    lines.emplace_back("fsync", "off");
    lines.emplace_back("full_page_writes", "off");
    // synchronous_commit stays on: with fsync off it costs one write() per
    // commit, while off would hide a committed transaction from logical
    // decoding (which reads up to the flushed WAL) for up to
    // wal_writer_delay, and lose it on StopMode::Immediate.
  }
  if (opts.tls) {
    for (auto& setting : tls_settings(*opts.tls)) lines.push_back(std::move(setting));
  }
  std::string out = "\n# Written by vil::testing::ThrowawayCluster: defaults, then the options.\n";
  for (const auto& [key, value] : lines) out += fmt::format("{} = {}\n", key, conf_value(value));
  for (const auto& [key, value] : opts.settings) {
    check_setting(key, value);
    out += fmt::format("{} = {}\n", key, conf_value(value));
  }
  return out;
}

std::string standby_conf(const StandbyOptions& opts, const std::string& primary_conninfo,
                         const std::filesystem::path& socket_dir) {
  std::vector<std::pair<std::string, std::string>> lines = {
      // The copy still names the primary's folder: two servers cannot share it.
      {"unix_socket_directories", socket_dir.string()},
      {"primary_conninfo", primary_conninfo},
      {"primary_slot_name", opts.slot_name},
      {"hot_standby", "on"},
      // Slot synchronization needs it, and it keeps the primary from
      // removing rows a query on the standby still sees.
      {"hot_standby_feedback", "on"},
  };
  if (opts.sync_slots) lines.emplace_back("sync_replication_slots", "on");
  std::string out = "\n# Written by vil::testing::ThrowawayCluster::make_standby().\n";
  for (const auto& [key, value] : lines) out += fmt::format("{} = {}\n", key, conf_value(value));
  for (const auto& [key, value] : opts.settings) {
    check_setting(key, value);
    out += fmt::format("{} = {}\n", key, conf_value(value));
  }
  return out;
}

std::string pg_hba_conf(const std::vector<std::string>& hba_lines,
                        const std::vector<std::string>& password_roles) {
  std::string out =
      "# Written by vil::testing::ThrowawayCluster. First match wins: the options'\n"
      "# lines, then the password roles, then the trust lines.\n"
      "# TYPE  DATABASE     USER  ADDRESS  METHOD\n";
  for (const auto& line : hba_lines) {
    if (line.find_first_of("\n\r") != std::string::npos) {
      throw ClusterError(fmt::format("the pg_hba.conf line '{}' contains a line break", line));
    }
    out += line + '\n';
  }
  for (const auto& role : password_roles) {
    out += fmt::format("host all \"{}\" 127.0.0.1/32 scram-sha-256\n", role);
    out += fmt::format("host replication \"{}\" 127.0.0.1/32 scram-sha-256\n", role);
  }
  out +=
      "host all all 127.0.0.1/32 trust\n"
      "host replication all 127.0.0.1/32 trust\n"
      "local all all trust\n"
      "local replication all trust\n";
  return out;
}

std::string conninfo_value(std::string_view value) {
  const bool plain = !value.empty() && value.find_first_of(" \t\n\r'\\") == std::string_view::npos;
  if (plain) return std::string(value);
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

void check_object_name(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > 63) {
    throw ClusterError(fmt::format("invalid {} name '{}': must be 1 to 63 bytes", what, name));
  }
  for (const char c : name) {
    if (c == '"' || static_cast<unsigned char>(c) < 0x20) {
      throw ClusterError(
          fmt::format("invalid {} name '{}': no double quotes or control characters", what, name));
    }
  }
}

}  // namespace vil::testing::detail
