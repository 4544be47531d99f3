#include <fmt/format.h>

#include "vil/pgoutput/utf8_sequence.hpp"
#include "failure.hpp"

namespace vil::values::detail {
namespace {

// The text as a message shows it: at most 64 bytes, control characters and
// bytes that are not UTF-8 as \xNN, so that the message itself is UTF-8.
std::string shown(std::string_view text) {
  constexpr std::size_t kMax = 64;
  std::string out;
  const std::string_view head = text.substr(0, kMax);
  const auto* p = reinterpret_cast<const unsigned char*>(head.data());
  const auto* const end = p + head.size();
  while (p < end) {
    const unsigned char u = *p;
    std::size_t keep = u >= 0x20 && u != 0x7F ? 1 : 0;
    if (u >= 0x80) {
      std::size_t bad = 0;
      keep = pgoutput::utf8_sequence(p, end, &bad);
    }
    if (keep == 0) {
      out += fmt::format("\\x{:02x}", u);
      ++p;
    } else {
      out.append(reinterpret_cast<const char*>(p), keep);
      p += keep;
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
  if (failure.code == ValueErrorCode::Array) {
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
