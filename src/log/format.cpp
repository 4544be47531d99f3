#include "vil/log/format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iterator>

#include "vil/log/mq_payload.hpp"

namespace vil::log {
namespace {

using Out = std::back_insert_iterator<std::string>;

std::string upper(std::string_view text) {
  std::string result(text);
  for (char& c : result) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

std::string level_word(LogLevel level, bool upper_case) {
  const std::string_view name = to_string(level);
  if (name.empty()) return std::to_string(static_cast<unsigned>(level));
  return upper_case ? upper(name) : std::string(name);
}

std::string category_word(LogCategory category) {
  const std::string_view name = to_string(category);
  if (name.empty()) return std::to_string(static_cast<unsigned>(category));
  return std::string(name);
}

std::string op_word(MqOp op) {
  const std::string_view name = to_string(op);
  if (name.empty()) return std::to_string(static_cast<unsigned>(op));
  return std::string(name);
}

void append_utc(std::string& out, std::uint64_t timestamp_ns) {
  const std::uint64_t seconds = timestamp_ns / 1'000'000'000u;
  const std::uint64_t nanos = timestamp_ns % 1'000'000'000u;
  const auto day_count = static_cast<int>(seconds / 86'400u);
  const std::uint64_t second_of_day = seconds % 86'400u;
  const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{day_count}}};
  fmt::format_to(Out(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
                 static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                 static_cast<unsigned>(date.day()), second_of_day / 3600, second_of_day / 60 % 60,
                 second_of_day % 60, nanos);
}

void append_event_id(std::string& out, const EventId& id) {
  fmt::format_to(Out(out), "{:016x}{:016x}", id.hi, id.lo);
}

template <std::size_t N>
void append_trimmed_hex(std::string& out, const std::array<std::uint8_t, N>& bytes) {
  auto end = bytes.end();
  while (end != bytes.begin() && *(end - 1) == 0) --end;
  for (auto it = bytes.begin(); it != end; ++it) fmt::format_to(Out(out), "{:02x}", *it);
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          fmt::format_to(Out(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

bool needs_quotes(std::string_view text) {
  if (text.empty()) return true;
  return std::any_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '=' || c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 ||
           c == 0x7f;
  });
}

// A hash in the text formats: hex, or its registered name when resolving.
void append_hash(std::string& out, std::uint32_t hash, const Dictionary* names) {
  if (names != nullptr) {
    if (const auto name = names->lookup(hash)) {
      if (needs_quotes(*name)) {
        append_json_string(out, *name);
      } else {
        out += *name;
      }
      return;
    }
  }
  fmt::format_to(Out(out), "0x{:08x}", hash);
}

void append_text(std::string& out, const LogSlot& slot, const Dictionary* names) {
  const VilLogHeader& h = slot.header;
  append_utc(out, h.timestamp_ns);
  fmt::format_to(Out(out), " {:<5} {}", level_word(h.level, true), category_word(h.category));
  if (h.category == LogCategory::Mq) {
    const MqPayload p = as_mq_payload(slot);
    fmt::format_to(Out(out), " {} broker=", op_word(p.op_type));
    append_hash(out, p.broker_hash, names);
    out += " topic=";
    append_hash(out, p.topic_hash, names);
    out += " group=";
    append_hash(out, p.group_hash, names);
    fmt::format_to(Out(out),
                   " offset={} partition={} message_bytes={} e2e_latency_ns={} retries={} "
                   "compression={}",
                   p.offset, p.partition, p.message_bytes, p.e2e_latency_ns, p.retries,
                   p.compression);
  } else {
    out += " payload=";
    append_trimmed_hex(out, slot.payload);
  }
  out += " service=";
  append_hash(out, h.service_hash, names);
  out += " handler=";
  append_hash(out, h.handler_hash, names);
  out += " node=";
  append_hash(out, h.node_hash, names);
  if (h.trace_id != 0) fmt::format_to(Out(out), " trace={:016x}", h.trace_id);
  if (h.tenant_id != 0) fmt::format_to(Out(out), " tenant={}", h.tenant_id);
  fmt::format_to(Out(out), " pid={} event_id=", h.process_id);
  append_event_id(out, h.event_id);
  out += '\n';
}

void append_compact(std::string& out, const LogSlot& slot) {
  const VilLogHeader& h = slot.header;
  const std::string level = level_word(h.level, true);
  const std::string_view initial =
      to_string(h.level).empty() ? std::string_view(level) : std::string_view(level).substr(0, 1);
  fmt::format_to(Out(out), "{} {} {}", h.timestamp_ns, initial, category_word(h.category));
  if (h.category == LogCategory::Mq) {
    const MqPayload p = as_mq_payload(slot);
    fmt::format_to(Out(out), " {} b={:08x} t={:08x} g={:08x} off={} part={} bytes={} lat_ns={}\n",
                   op_word(p.op_type), p.broker_hash, p.topic_hash, p.group_hash, p.offset,
                   p.partition, p.message_bytes, p.e2e_latency_ns);
  } else {
    out += " payload=";
    append_trimmed_hex(out, slot.payload);
    out += '\n';
  }
}

void append_json(std::string& out, const LogSlot& slot) {
  const VilLogHeader& h = slot.header;
  out += "{\"event_id\":\"";
  append_event_id(out, h.event_id);
  fmt::format_to(Out(out),
                 "\",\"trace_id\":{},\"tenant_id\":{},\"process_id\":{},\"timestamp_ns\":{},"
                 "\"level\":\"{}\",\"category\":\"{}\",\"subcategory\":{},\"version\":{},"
                 "\"service_hash\":{},\"handler_hash\":{},\"node_hash\":{}",
                 h.trace_id, h.tenant_id, h.process_id, h.timestamp_ns, level_word(h.level, false),
                 category_word(h.category), h.subcategory, h.version, h.service_hash,
                 h.handler_hash, h.node_hash);
  if (h.category == LogCategory::Mq) {
    const MqPayload p = as_mq_payload(slot);
    fmt::format_to(Out(out),
                   ",\"broker_hash\":{},\"topic_hash\":{},\"group_hash\":{},\"offset\":{},"
                   "\"message_bytes\":{},\"e2e_latency_ns\":{},\"op_type\":\"{}\","
                   "\"partition\":{},\"retries\":{},\"compression\":{},\"meta_bytes\":\"",
                   p.broker_hash, p.topic_hash, p.group_hash, p.offset, p.message_bytes,
                   p.e2e_latency_ns, op_word(p.op_type), p.partition, p.retries, p.compression);
    append_trimmed_hex(out, p.meta_bytes);
  } else {
    out += ",\"payload\":\"";
    append_trimmed_hex(out, slot.payload);
  }
  out += "\"}\n";
}

}  // namespace

std::string_view to_string(LogFormat format) noexcept {
  switch (format) {
    case LogFormat::Pretty:
      return "pretty";
    case LogFormat::Compact:
      return "compact";
    case LogFormat::Json:
      return "json";
    case LogFormat::Resolved:
      return "resolved";
  }
  return {};
}

std::optional<LogFormat> parse_log_format(std::string_view name) noexcept {
  for (const LogFormat format :
       {LogFormat::Pretty, LogFormat::Compact, LogFormat::Json, LogFormat::Resolved}) {
    if (to_string(format) == name) return format;
  }
  return std::nullopt;
}

void format_slot(std::string& out, const LogSlot& slot, LogFormat format, const Dictionary& names) {
  switch (format) {
    case LogFormat::Pretty:
      append_text(out, slot, nullptr);
      return;
    case LogFormat::Resolved:
      append_text(out, slot, &names);
      return;
    case LogFormat::Compact:
      append_compact(out, slot);
      return;
    case LogFormat::Json:
      append_json(out, slot);
      return;
  }
}

std::string format_slot(const LogSlot& slot, LogFormat format, const Dictionary& names) {
  std::string out;
  format_slot(out, slot, format, names);
  return out;
}

}  // namespace vil::log
