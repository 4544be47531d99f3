// PostgreSQL text form -> typed Value. The text is what pgoutput sends for a column in text
// format, with the walsender session's DateStyle ISO, IntervalStyle postgres and
// extra_float_digits 3.
#pragma once

#include <cstdint>
#include <string_view>

#include <expected>
#include "vil/values/type_info.hpp"
#include "vil/values/value.hpp"

namespace vil::values {

// Converts `text` as a value of `type`. The result may point into `text` (see value.hpp).
// Unknown types give Unknown{text}; bad text gives a ValueError naming the type, the text,
// the cause and its offset. Values kept as text (text, varchar, bpchar, name, "char", xml,
// unknown types, and such elements of arrays) must be UTF-8: the first byte that is not
// gives ValueErrorCode::Encoding at its offset. Allocates only for arrays.
std::expected<Value, ValueError> convert(const TypeInfo& type, std::string_view text);

// The same for a built-in type OID (others give Unknown).
std::expected<Value, ValueError> convert(uint32_t type_oid, std::string_view text);

}  // namespace vil::values
