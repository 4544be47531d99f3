#include "vil/output/broker_names.hpp"

#include <charconv>

#include <fmt/format.h>

namespace vil::output {

namespace {

bool safe_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

void append_safe(std::string& out, std::string_view name) {
  for (const char c : name) out.push_back(safe_char(c) ? c : '_');
}

}  // namespace

std::string table_topic(std::string_view prefix, std::string_view schema, std::string_view table) {
  std::string topic;
  topic.reserve(prefix.size() + schema.size() + table.size() + 2);
  topic.append(prefix);
  topic.push_back('.');
  append_safe(topic, schema);
  topic.push_back('.');
  append_safe(topic, table);
  return topic;
}

std::string message_topic(std::string_view prefix) {
  return fmt::format("{}._message", prefix);
}

void change_topics(std::string_view prefix, const cdc::Change& change,
                   std::vector<std::string>& out) {
  out.clear();
  switch (change.kind) {
    case cdc::ChangeKind::Truncate:
      for (const pgoutput::RelationSchema* relation : change.truncated) {
        if (relation != nullptr) {
          out.push_back(table_topic(prefix, relation->namespace_name, relation->name));
        }
      }
      return;
    case cdc::ChangeKind::Message:
      out.push_back(message_topic(prefix));
      return;
    default:
      if (change.relation != nullptr) {
        out.push_back(table_topic(prefix, change.relation->namespace_name, change.relation->name));
      }
      return;
  }
}

std::string check_topic_prefix(std::string_view prefix) {
  if (prefix.empty()) return "a topic prefix cannot be empty";
  bool after_dot = true;
  for (const char c : prefix) {
    if (c == '.') {
      if (after_dot) {
        return fmt::format("topic prefix '{}': a '.' must stand between two names", prefix);
      }
      after_dot = true;
    } else if (safe_char(c)) {
      after_dot = false;
    } else {
      return fmt::format(
          "topic prefix '{}': only ASCII letters, digits, '_', '-' and '.' between them", prefix);
    }
  }
  if (after_dot) {
    return fmt::format("topic prefix '{}': a '.' must stand between two names", prefix);
  }
  return {};
}

ChangeKeyParts change_key_parts(const cdc::Change& change) {
  const bool placed = change.in_transaction() || change.kind == cdc::ChangeKind::Read;
  ChangeKeyParts parts;
  parts.lsn = pgoutput::format_lsn(placed ? change.commit_lsn : change.lsn);
  const uint32_t seq = placed ? change.ordinal : 0;
  const auto end = std::to_chars(parts.seq.data(), parts.seq.data() + parts.seq.size(), seq).ptr;
  parts.seq_size = static_cast<uint8_t>(end - parts.seq.data());
  return parts;
}

std::string change_key(const cdc::Change& change) {
  const ChangeKeyParts parts = change_key_parts(change);
  return fmt::format("{}:{}", parts.lsn.view(), parts.seq_view());
}

}  // namespace vil::output
