#include "vil/output/format.hpp"

namespace vil::output {

std::string_view to_string(Format format) noexcept {
  return format == Format::Debezium ? "debezium" : "jsonl";
}

std::optional<Format> parse_format(std::string_view name) noexcept {
  if (name == "jsonl") return Format::JsonLines;
  if (name == "debezium") return Format::Debezium;
  return std::nullopt;
}

}  // namespace vil::output
