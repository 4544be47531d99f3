#include "vil/cdc/row_view.hpp"

#include "vil/cdc/change.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "vil/values/convert.hpp"

namespace vil::cdc {
namespace {

values::ValueError error(values::ValueErrorCode code, uint32_t type_oid, std::string message) {
  values::ValueError e;
  e.code = code;
  e.type_oid = type_oid;
  e.message = std::move(message);
  return e;
}

}  // namespace

std::string_view RowView::name(std::size_t column) const noexcept {
  if (relation_ == nullptr || column >= relation_->columns.size()) return {};
  return relation_->columns[column].name;
}

values::TypeInfo RowView::type(std::size_t column) const noexcept {
  if (column < types_.size()) return types_[column];
  if (relation_ != nullptr && column < relation_->columns.size()) {
    return values::builtin_type(relation_->columns[column].type_oid);
  }
  return {};
}

std::optional<std::size_t> RowView::find(std::string_view name) const noexcept {
  if (relation_ == nullptr) return std::nullopt;
  const std::size_t n = std::min(relation_->columns.size(), tuple_.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (relation_->columns[i].name == name) return i;
  }
  return std::nullopt;
}

pgoutput::ColumnValue RowView::raw(std::size_t column) const noexcept {
  // Columns have lengths, not offsets: reaching one walks those before it.
  std::size_t i = 0;
  for (const pgoutput::ColumnValue& v : tuple_) {
    if (i++ == column) return v;
  }
  return {};
}

std::expected<values::Value, values::ValueError> RowView::value(std::size_t column) const {
  if (column >= size()) {
    return std::unexpected(
        error(values::ValueErrorCode::NoSuchColumn, 0,
              fmt::format("the row has {} columns; there is no column {}", size(), column)));
  }
  const values::TypeInfo t = type(column);
  const pgoutput::ColumnValue v = raw(column);
  switch (v.kind) {
    case pgoutput::ColumnKind::Null:
      return values::Value{values::Null{}};
    case pgoutput::ColumnKind::UnchangedToast:
      return std::unexpected(
          error(values::ValueErrorCode::NotSent, t.oid,
                fmt::format("column \"{}\": an unchanged TOASTed value the server did not send",
                            name(column))));
    case pgoutput::ColumnKind::Binary:
      return std::unexpected(
          error(values::ValueErrorCode::Syntax, t.oid,
                fmt::format("column \"{}\" was sent in binary format, which is not converted",
                            name(column))));
    case pgoutput::ColumnKind::Text:
      break;
  }
  return values::convert(t, v.text());
}

std::expected<values::Value, values::ValueError> RowView::value(std::string_view name) const {
  const auto column = find(name);
  if (!column) {
    return std::unexpected(error(values::ValueErrorCode::NoSuchColumn, 0,
                                 fmt::format("the row has no column \"{}\"", name)));
  }
  return value(*column);
}

RowView Change::new_row() const noexcept {
  if (relation == nullptr || new_tuple.empty()) return {};
  return {*relation, new_tuple, column_types};
}

RowView Change::old_row() const noexcept {
  if (relation == nullptr || old_kind == pgoutput::OldTuple::None) return {};
  return {*relation, old_tuple, column_types};
}

}  // namespace vil::cdc
