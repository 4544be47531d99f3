#include <fmt/format.h>

#include "values/failure.hpp"

namespace vil::values::detail {
namespace {

// The text as a message shows it: at most 64 bytes, control characters as \xNN.
std::string shown(std::string_view text) {
  constexpr std::size_t kMax = 64;
  std::string out;
  const std::string_view head = text.substr(0, kMax);
  for (const char c : head) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out.push_back(c);
    }
  }
  if (text.size() > kMax) out += "...";
  return out;
}

std::string_view name_of(const TypeInfo& type) {
  return type.name.empty() ? kind_name(type.kind) : type.name;
}

}  // namespace

ValueError make_error(const TypeInfo& type, std::string_view text, const Failure& failure) {
  ValueError e;
  e.code = failure.code;
  e.type_oid = type.oid;
  e.offset = failure.offset;
  if (failure.code == ValueErrorCode::kArray) {
    e.message = fmt::format("{}: array '{}' {} (offset {})", name_of(type), shown(text),
                            failure.what, failure.offset);
  } else {
    e.message = fmt::format("{}: '{}' {} (offset {})", name_of(type), shown(text), failure.what,
                            failure.offset);
  }
  return e;
}

ValueError make_element_error(const TypeInfo& array_type, std::size_t index,
                              const TypeInfo& element_type, std::string_view element_text,
                              const Failure& failure) {
  ValueError e = make_error(element_type, element_text, failure);
  e.type_oid = array_type.oid;
  e.message = fmt::format("{}: element {}: {}", name_of(array_type), index, e.message);
  return e;
}

}  // namespace vil::values::detail
