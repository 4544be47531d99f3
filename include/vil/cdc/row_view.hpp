#pragma once
// RowView: one row of a Change (its new row, or the old row or key), typed.
// Each column is found by index or by name and converted by the values layer
// when asked, not before: a consumer that reads two columns of fifty pays for
// two. Like the Change it comes from, a view and the values it hands out point
// into the frame the change arrived in: valid during the callback only.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include <expected>

#include "vil/pgoutput/relation_cache.hpp"
#include "vil/pgoutput/tuple.hpp"
#include "vil/values/type_info.hpp"
#include "vil/values/value.hpp"

namespace vil::cdc {

class RowView {
 public:
  // An empty row (a Change without that row: the old row of an insert, say).
  RowView() = default;
  // `types` holds one entry per column of `relation` (Change::column_types).
  RowView(const pgoutput::RelationSchema& relation, pgoutput::TupleView tuple,
          std::span<const values::TypeInfo> types) noexcept
      : relation_(&relation), tuple_(tuple), types_(types) {}

  // Columns in the relation's order; 0 for an empty row.
  [[nodiscard]] std::size_t size() const noexcept { return tuple_.size(); }
  [[nodiscard]] bool empty() const noexcept { return tuple_.empty(); }

  [[nodiscard]] std::string_view name(std::size_t column) const noexcept;
  // The column's type (kind, OID, name; arrays their element type).
  [[nodiscard]] values::TypeInfo type(std::size_t column) const noexcept;
  // The index of the column named `name` (exact, case-sensitive), if any.
  [[nodiscard]] std::optional<std::size_t> find(std::string_view name) const noexcept;

  // The column as sent: null, unchanged TOAST (not sent), text or binary.
  [[nodiscard]] pgoutput::ColumnValue raw(std::size_t column) const noexcept;

  // The column's value: Null for NULL, else its text converted for its type.
  // Errors: an index or name that is not a column, an unchanged TOASTed value
  // the server did not send (ValueErrorCode::NotSent), a column sent in
  // binary format, or text that is not valid for the type (which the server
  // never sends).
  [[nodiscard]] std::expected<values::Value, values::ValueError> value(std::size_t column) const;
  [[nodiscard]] std::expected<values::Value, values::ValueError> value(std::string_view name) const;

 private:
  const pgoutput::RelationSchema* relation_ = nullptr;
  pgoutput::TupleView tuple_;
  std::span<const values::TypeInfo> types_;
};

}  // namespace vil::cdc
