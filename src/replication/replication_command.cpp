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
  auto slot = quote_replication_identifier(config.slot_name);
  if (!slot) return std::nullopt;
  return fmt::format("CREATE_REPLICATION_SLOT {} {}LOGICAL pgoutput NOEXPORT_SNAPSHOT", *slot,
                     config.temporary_slot ? "TEMPORARY " : "");
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
  return fmt::format(
      "START_REPLICATION SLOT {} LOGICAL {} (proto_version '{}', publication_names {}{})", *slot,
      pgoutput::format_lsn(pgoutput::Lsn{start_lsn}).view(), protocol_version, *publication_names,
      messages);
}

}  // namespace vil::replication
