#pragma once
// The output formats of docs/DESIGN.md §4 and their command-line names.

#include <cstdint>
#include <optional>
#include <string_view>

namespace vil::output {

enum class Format : std::uint8_t {
  JsonLines,  // --format jsonl: this project's own lines (docs/DESIGN.md §4.1)
  Debezium,   // --format debezium: the value of Debezium's PostgreSQL connector events
};

// "jsonl" or "debezium".
[[nodiscard]] std::string_view to_string(Format format) noexcept;
// Exactly what to_string() gives, no aliases: the one parser of --format and
// output.format, so the command line and the file accept the same names.
[[nodiscard]] std::optional<Format> parse_format(std::string_view name) noexcept;

}  // namespace vil::output
