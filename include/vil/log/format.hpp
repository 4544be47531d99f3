#pragma once
// How a drained LogSlot is written as one line of text. Each format is stable:
// tools may parse it. Every line ends with '\n'.
//
// Pretty (people; hashes as 0x + 8 hex digits):
//   2024-01-02T03:04:05.123456789Z INFO  mq publish broker=0x76f33000
//   topic=0x3237d54d group=0xf58857e8 offset=42 partition=3 message_bytes=128
//   e2e_latency_ns=1500 retries=0 compression=0 service=0x00000001
//   handler=0x00000002 node=0x00000003 pid=1234 event_id=<32 hex digits>
//   (one line). The time is UTC with nanoseconds; the level is upper case,
//   padded to 5 columns; then the category; for Mq records the operation and
//   the fields above. " trace=<16 hex>" and " tenant=<decimal>" are added
//   before " pid=" when non-zero. Records of other categories print
//   "payload=<hex>" in place of the Mq operation and fields.
//
// Resolved: Pretty with every hash printed as the text registered for it (see
//   dictionary.hpp); text that is empty or holds a space, '=', '"', '\' or a
//   control character is printed as a JSON string. An unregistered hash stays
//   0x + 8 hex digits.
//
// Compact (one short line):
//   1704164645123456789 I mq publish b=76f33000 t=3237d54d g=f58857e8 off=42
//   part=3 bytes=128 lat_ns=1500
//   (timestamp_ns, the level's initial, the category, the Mq fields; other
//   categories print "payload=<hex>" after the category).
//
// Json (one object per line, every field by name, in layout order):
//   {"event_id":"<32 hex>","trace_id":0,"tenant_id":0,"process_id":1234,
//    "timestamp_ns":...,"level":"info","category":"mq","subcategory":0,
//    "version":1,"service_hash":1,"handler_hash":2,"node_hash":3,
//    "broker_hash":...,"topic_hash":...,"group_hash":...,"offset":42,
//    "message_bytes":128,"e2e_latency_ns":1500,"op_type":"publish",
//    "partition":3,"retries":0,"compression":0,"meta_bytes":""}
//   Hashes are decimal numbers. Other categories end with "payload":"<hex>"
//   after "node_hash".
//
// Everywhere: event_id is the u128 as 32 lower-case hex digits, most
// significant first. <hex> is lower-case hex of the bytes with trailing zero
// bytes left out. A level, category or op_type outside its enum prints as its
// decimal number (in Json, as a string of it, so the field keeps one type).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vil/log/dictionary.hpp"
#include "vil/log/log_slot.hpp"

namespace vil::log {

enum class LogFormat : std::uint8_t { Pretty, Compact, Json, Resolved };

// "pretty", "compact", "json", "resolved".
std::string_view to_string(LogFormat format) noexcept;
std::optional<LogFormat> parse_log_format(std::string_view name) noexcept;

// Appends one line. Resolved looks names up in `names`.
void format_slot(std::string& out, const LogSlot& slot, LogFormat format,
                 const Dictionary& names = dictionary());
std::string format_slot(const LogSlot& slot, LogFormat format,
                        const Dictionary& names = dictionary());

}  // namespace vil::log
