// One non-array value from its text: shared by convert() and the array elements.
#pragma once

#include <string_view>

#include "failure.hpp"

namespace vil::values::detail {

Parsed<Value> convert_scalar(TypeKind kind, std::string_view text) noexcept;

}  // namespace vil::values::detail
