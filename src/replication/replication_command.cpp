#include "replication_command.hpp"

#include <fmt/format.h>

#include "vil/pgoutput/lsn.hpp"

namespace vil::replication {

namespace {

std::optional<std::string> quote_doubling(std::string_view text, char quote) {
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  std::string out;
  out.reserve(text.size() + 2);
  out += quote;
  for (char c : text) {
    if (c == quote) out += quote;
    out += c;
  }
  out += quote;
  return out;
}

}  // namespace

std::optional<std::string> quote_replication_literal(std::string_view text) {
  return quote_doubling(text, '\'');
}

std::optional<std::string> quote_replication_identifier(std::string_view name) {
  return quote_doubling(name, '"');
}

std::optional<std::string> create_slot_command(const StreamSettings& config) {
  // A permanent slot whose snapshot is exported starts as a temporary one
  // (snapshot_slot_name()): set-up makes it permanent once the snapshot was
  // read, so a crash in between leaves no slot behind. Unless the owner
  // finishes a snapshot cut short: then the slot must outlive the crash.
  if (config.export_snapshot && !config.temporary_slot && !config.resumable_snapshot) {
    return create_slot_command(snapshot_slot_name(config.slot_name), true, true);
  }
  return create_slot_command(config.slot_name, config.temporary_slot, config.export_snapshot,
                             config.failover);
}

std::optional<std::string> create_slot_command(std::string_view name, bool temporary,
                                               bool export_snapshot, bool failover) {
  auto slot = quote_replication_identifier(name);
  if (!slot) return std::nullopt;
  // FAILOVER exists only in the option list; a temporary slot cannot have it.
  if (failover && !temporary) {
    return fmt::format("CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT '{}', FAILOVER)",
                       *slot, export_snapshot ? "export" : "nothing");
  }
  // The legacy option words: every server from 10 to 18 takes them.
  return fmt::format("CREATE_REPLICATION_SLOT {} {}LOGICAL pgoutput {}", *slot,
                     temporary ? "TEMPORARY " : "",
                     export_snapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT");
}

std::optional<std::string> failover_on_command(std::string_view name) {
  auto slot = quote_replication_identifier(name);
  if (!slot) return std::nullopt;
  return fmt::format("ALTER_REPLICATION_SLOT {} ( FAILOVER true )", *slot);
}

std::string snapshot_slot_name(std::string_view slot_name) {
  // Slot names are at most 63 bytes: room for the suffix.
  return std::string(slot_name.substr(0, 54)) + "_snapshot";
}

std::optional<std::string> start_replication_command(const StreamSettings& config,
                                                     int server_version, uint32_t protocol_version,
                                                     uint64_t start_lsn) {
  auto slot = quote_replication_identifier(config.slot_name);
  // publication_names is a list of identifiers (pgoutput splits it the way
  // SplitIdentifierString does) inside a literal.
  auto publication = quote_replication_identifier(config.publication);
  if (!slot || !publication) return std::nullopt;
  auto publication_names = quote_replication_literal(*publication);
  if (!publication_names) return std::nullopt;
  std::string messages;
  if (server_version >= kFirstMessagesVersion) {
    messages = fmt::format(", messages '{}'", config.messages ? "true" : "false");
  }
  std::string streaming;
  if (!config.streaming.empty() && protocol_version >= 2) {
    streaming = fmt::format(", streaming '{}'", config.streaming);
  }
  return fmt::format(
      "START_REPLICATION SLOT {} LOGICAL {} (proto_version '{}', publication_names {}{}{})", *slot,
      pgoutput::format_lsn(pgoutput::Lsn{start_lsn}).view(), protocol_version, *publication_names,
      messages, streaming);
}

}  // namespace vil::replication
