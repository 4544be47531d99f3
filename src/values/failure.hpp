// What the parsers report before a ValueError (with its formatted message) is built: cheap to
// return on the hot path, formatted only when something is wrong.
#pragma once

#include <cstdint>
#include <string_view>

#include <expected>
#include "vil/values/type_info.hpp"
#include "vil/values/value.hpp"

namespace vil::values::detail {

struct Failure {
  ValueErrorCode code = ValueErrorCode::Syntax;
  uint32_t offset = 0;
  std::string_view what;  // a static phrase: "is not an integer", "unterminated quoted element"
};

template <class T>
using Parsed = std::expected<T, Failure>;

inline std::unexpected<Failure> syntax(std::size_t offset, std::string_view what) {
  return std::unexpected<Failure>(
      Failure{ValueErrorCode::Syntax, static_cast<uint32_t>(offset), what});
}
inline std::unexpected<Failure> out_of_range(std::size_t offset, std::string_view what) {
  return std::unexpected<Failure>(
      Failure{ValueErrorCode::OutOfRange, static_cast<uint32_t>(offset), what});
}
inline std::unexpected<Failure> bad_array(std::size_t offset, std::string_view what) {
  return std::unexpected<Failure>(
      Failure{ValueErrorCode::Array, static_cast<uint32_t>(offset), what});
}

// "int4: '12a' is not an integer (offset 2)" or, for arrays,
// "_int4: malformed array literal: unterminated quoted element (offset 7)".
ValueError make_error(const TypeInfo& type, std::string_view text, const Failure& failure);

// For an element of an array: "_int4: element 2: int4: 'x' is not an integer (offset 5)",
// `failure.offset` being relative to the array's text.
ValueError make_element_error(const TypeInfo& array_type, std::size_t index,
                              const TypeInfo& element_type, std::string_view element_text,
                              const Failure& failure);

}  // namespace vil::values::detail
