// Column values as JSON (docs/DESIGN.md §4.3), appended to a caller's std::string:
//   NULL -> null; bool -> true/false; int2/int4/int8/oid -> number;
//   float4/float8 -> number, but NaN/Infinity/-Infinity as the strings "NaN", "Infinity",
//   "-Infinity"; numeric -> string with the exact text; json/jsonb -> embedded as is;
//   bytea -> string with its "\x..." hex text; arrays of any element type -> JSON arrays
//   whose elements follow these same rules (nested for multi-dimensional arrays, NULL
//   elements as null, split on the TypeInfo's delimiter, lower bounds dropped); a domain
//   (resolved by TypeCatalog) -> its base type's rule; everything else (text, uuid, dates
//   and times, intervals, enums, ranges, ...) -> string with PostgreSQL's text form.
// The output is always valid JSON, and valid UTF-8 even when the input is not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <expected>
#include "vil/values/type_info.hpp"
#include "vil/values/value.hpp"

namespace vil::values {

// Appends the JSON for one column value in text format. Text that is not a valid form of
// its type (the server never sends such) is written as a JSON string of that text instead,
// so the output stays valid JSON, and the error says what was wrong. Embedded json/jsonb
// has its line breaks (outside strings, the only place JSON allows them) turned into
// spaces so one change stays on one line.
std::expected<void, ValueError> write_json_value(std::string& out, const TypeInfo& type,
                                                 std::string_view text);
std::expected<void, ValueError> write_json_value(std::string& out, uint32_t type_oid,
                                                 std::string_view text);

inline void write_json_null(std::string& out) {
  out.append("null", 4);
}

// `text` as a JSON string, quotes included (RFC 8259): '"' and '\\' escaped, control
// characters as \b \f \n \r \t or \u00XX, and each invalid UTF-8 sequence replaced by U+FFFD.
void write_json_string(std::string& out, std::string_view text);

// The same without the surrounding quotes (for building a string from several parts).
void write_json_string_contents(std::string& out, std::string_view text);

// A column sent in binary format ('b' in pgoutput) is not interpreted by this layer: it is
// written as the JSON string "\\x<hex of the bytes>", the way bytea is shown.
void write_json_hex_string(std::string& out, std::span<const std::byte> bytes);

// Whether `text` is one complete JSON value (RFC 8259, strict: valid UTF-8, paired
// surrogate escapes, no trailing commas). Used before embedding json/jsonb.
bool is_valid_json(std::string_view text) noexcept;

}  // namespace vil::values
