#pragma once

#include <string_view>

#include "failure.hpp"

namespace vil::values::detail {

// uuid_in(): 32 hex digits, a hyphen allowed after any group of four, optionally in braces.
Parsed<Uuid> parse_uuid(std::string_view text) noexcept;

}  // namespace vil::values::detail
