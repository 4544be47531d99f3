#include "row_writer.hpp"

#include "vil/values/json_writer.hpp"

namespace vil::output::detail {

void RowWriter::write_value(std::string& out, const ColumnLayout& column,
                            const pgoutput::ColumnValue& value) {
  switch (value.kind) {
    case pgoutput::ColumnKind::Text:
      if (auto written = values::write_json_value(out, column.type, value.text()); !written) {
        if (value_errors_++ == 0) {
          const std::string_view type =
              column.type.name.empty() ? values::kind_name(column.type.kind) : column.type.name;
          // quoted_name() is the name as a JSON string, quotes included.
          first_value_error_place_ = "column ";
          first_value_error_place_.append(column.quoted_name());
          if (layout_ != nullptr) {
            first_value_error_place_.append(" of ");
            first_value_error_place_.append(layout_->derived_from.qualified_name);
          }
          first_value_error_place_.append(" (type ");
          first_value_error_place_.append(type);
          first_value_error_place_.append(")");
        }
        last_value_error_ = std::move(written.error().message);
      }
      return;
    case pgoutput::ColumnKind::Binary:
      values::write_json_hex_string(out, value.bytes);
      return;
    case pgoutput::ColumnKind::Null:
    case pgoutput::ColumnKind::UnchangedToast:
      break;
  }
  values::write_json_null(out);
}

void RowWriter::write_old(std::string& out, const RelationLayout& layout,
                          const pgoutput::TupleView& tuple, bool key_only, UnsentToast unsent) {
  layout_ = &layout;
  out.push_back('{');
  bool first = true;
  std::size_t i = 0;
  for (const pgoutput::ColumnValue& value : tuple) {
    if (i == layout.columns.size()) break;
    const ColumnLayout& column = layout.columns[i++];
    if (key_only && !column.is_key) continue;
    if (value.is_unchanged_toast() && unsent == UnsentToast::Omit) continue;
    out.append(column.key_after(first));
    first = false;
    if (value.is_unchanged_toast()) {
      out.append(kDebeziumUnavailable);
    } else {
      write_value(out, column, value);
    }
  }
  out.push_back('}');
}

void RowWriter::write_new(std::string& out, const RelationLayout& layout,
                          const pgoutput::TupleView& new_tuple, pgoutput::OldTuple old_kind,
                          const pgoutput::TupleView& old_tuple, UnsentToast unsent) {
  layout_ = &layout;
  omitted_.clear();
  // The old row is walked in step with the new one, to find unchanged TOASTed
  // values in it.
  const bool has_old = old_kind != pgoutput::OldTuple::None && old_tuple.size() == new_tuple.size();
  auto old = has_old ? old_tuple.begin() : pgoutput::TupleView::iterator{};
  out.push_back('{');
  bool first = true;
  std::size_t i = 0;
  for (const pgoutput::ColumnValue& value : new_tuple) {
    if (i == layout.columns.size()) break;
    const ColumnLayout& column = layout.columns[i];
    const pgoutput::ColumnValue* source = &value;
    if (value.is_unchanged_toast()) {
      // A FULL old row has every column (NULL is a value too); a key tuple only
      // its key columns, the others being null placeholders.
      if (has_old && !old->is_unchanged_toast() &&
          (old_kind == pgoutput::OldTuple::Full || old->has_value())) {
        source = &*old;
      } else if (unsent == UnsentToast::Omit) {
        omitted_.push_back(static_cast<std::uint16_t>(i));
        source = nullptr;
      }
    }
    if (source != nullptr) {
      out.append(column.key_after(first));
      first = false;
      if (source->is_unchanged_toast()) {
        out.append(kDebeziumUnavailable);
      } else {
        write_value(out, column, *source);
      }
    }
    ++i;
    if (has_old) ++old;
  }
  out.push_back('}');
}

void RowWriter::write_key(std::string& out, const RelationLayout& layout,
                          const pgoutput::TupleView& tuple, pgoutput::OldTuple old_kind,
                          const pgoutput::TupleView& old_tuple) {
  layout_ = &layout;
  const bool has_old = old_kind != pgoutput::OldTuple::None && old_tuple.size() == tuple.size();
  auto old = has_old ? old_tuple.begin() : pgoutput::TupleView::iterator{};
  out.push_back('{');
  bool first = true;
  std::size_t i = 0;
  for (const pgoutput::ColumnValue& value : tuple) {
    if (i == layout.columns.size()) break;
    const ColumnLayout& column = layout.columns[i++];
    if (column.is_key) {
      out.append(column.key_after(first));
      first = false;
      if (!value.is_unchanged_toast()) {
        write_value(out, column, value);
      } else if (has_old && old->has_value()) {
        write_value(out, column, *old);
      } else {
        out.append(kDebeziumUnavailable);
      }
    }
    if (has_old) ++old;
  }
  out.push_back('}');
}

}  // namespace vil::output::detail
