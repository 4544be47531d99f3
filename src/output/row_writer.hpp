#pragma once
// Rows as JSON objects, {"col":value,...}, straight from the tuple's text
// views through the values layer. Shared by both formats; they differ only in
// what stands for an unchanged TOASTed value the server did not send.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "relation_layout.hpp"
#include "vil/pgoutput/messages.hpp"

namespace vil::output::detail {

enum class UnsentToast : std::uint8_t {
  Omit,         // JSON lines: left out, and named in "unchanged_toast"
  Placeholder,  // Debezium: "__debezium_unavailable_value"
};

inline constexpr std::string_view kDebeziumUnavailable = "\"__debezium_unavailable_value\"";

class RowWriter {
 public:
  // The old row: only its key columns when `key_only`, else every column.
  void write_old(std::string& out, const RelationLayout& layout, const pgoutput::TupleView& tuple,
                 bool key_only, UnsentToast unsent);

  // The new row. An unchanged TOASTed column takes the old row's value when
  // the old row is REPLICA IDENTITY FULL (or a key tuple that has the value).
  void write_new(std::string& out, const RelationLayout& layout,
                 const pgoutput::TupleView& new_tuple, pgoutput::OldTuple old_kind,
                 const pgoutput::TupleView& old_tuple, UnsentToast unsent);

  // The row's key: {"col":value,...} of the columns the layout marks as key,
  // from `tuple` (the new row, or a delete's old one). An unchanged TOASTed
  // value is taken from `old_tuple` when that has it, else written as
  // Debezium's placeholder.
  void write_key(std::string& out, const RelationLayout& layout, const pgoutput::TupleView& tuple,
                 pgoutput::OldTuple old_kind, const pgoutput::TupleView& old_tuple);

  // Columns (indexes into the layout) that the last write_new left out.
  [[nodiscard]] std::span<const std::uint16_t> omitted() const noexcept { return omitted_; }

  [[nodiscard]] std::uint64_t value_errors() const noexcept { return value_errors_; }
  [[nodiscard]] const std::string& last_value_error() const noexcept { return last_value_error_; }
  // Where the first of them was: `column "c" of public.t (type numeric)`,
  // never the value (it is the user's data).
  [[nodiscard]] const std::string& first_value_error_place() const noexcept {
    return first_value_error_place_;
  }

  void write_value(std::string& out, const ColumnLayout& column,
                   const pgoutput::ColumnValue& value);

 private:
  std::vector<std::uint16_t> omitted_;
  std::uint64_t value_errors_ = 0;
  std::string last_value_error_;
  std::string first_value_error_place_;
  const RelationLayout* layout_ = nullptr;  // of the row being written
};

}  // namespace vil::output::detail
