// bool, integers, floats and numeric from their text forms.
#pragma once

#include <cstdint>
#include <string_view>

#include "failure.hpp"

namespace vil::values::detail {

Parsed<bool> parse_bool(std::string_view text) noexcept;

struct ParsedInt {
  int64_t value;
  bool canonical;  // the text is exactly how JSON (and PostgreSQL's output) writes the value
};
// int2, int4, int8 and oid (oid accepts -2147483648..4294967295 as PostgreSQL does, a
// negative value meaning its unsigned 32-bit image).
Parsed<ParsedInt> parse_int(TypeKind kind, std::string_view text) noexcept;

enum class FloatClass : uint8_t { Finite, NaN, Infinity, MinusInfinity };
struct ParsedFloat {
  double value;
  FloatClass cls;
  bool json_ready;  // finite and the text is already a JSON number
};
Parsed<ParsedFloat> parse_float(TypeKind kind, std::string_view text) noexcept;

// Validates numeric text; returns it without surrounding whitespace.
Parsed<std::string_view> parse_numeric(std::string_view text) noexcept;

// RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view text) noexcept;

}  // namespace vil::values::detail
