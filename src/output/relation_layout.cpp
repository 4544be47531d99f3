#include "relation_layout.hpp"

#include "connect_schema.hpp"
#include "vil/values/json_writer.hpp"

namespace vil::output::detail {
namespace {

bool same_description(const pgoutput::RelationSchema& a,
                      const pgoutput::RelationSchema& b) noexcept {
  if (a.id != b.id || a.columns.size() != b.columns.size() || a.name != b.name ||
      a.namespace_name != b.namespace_name || a.replica_identity != b.replica_identity) {
    return false;
  }
  for (std::size_t i = 0; i < a.columns.size(); ++i) {
    const pgoutput::ColumnSchema& x = a.columns[i];
    const pgoutput::ColumnSchema& y = b.columns[i];
    if (x.type_oid != y.type_oid || x.is_key != y.is_key || x.name != y.name) return false;
  }
  return true;
}

std::string_view type_name(const pgoutput::TypeCache* types, pgoutput::Oid oid) noexcept {
  const pgoutput::TypeSchema* type = types != nullptr ? types->find(oid) : nullptr;
  return type != nullptr ? std::string_view(type->qualified_name) : std::string_view();
}

bool is_current(const RelationLayout& layout, const pgoutput::RelationSchema& schema,
                const pgoutput::TypeCache* types, const values::TypeInfo* given) noexcept {
  if (layout.schema != &schema || layout.given_types != given ||
      !same_description(layout.derived_from, schema)) {
    return false;
  }
  for (const auto& [oid, name] : layout.type_names) {
    if (type_name(types, oid) != name) return false;
  }
  return true;
}

}  // namespace

const RelationLayout& LayoutCache::get(const pgoutput::RelationSchema& schema,
                                       const pgoutput::TypeCache* types,
                                       std::span<const values::TypeInfo> column_types) {
  const bool given = column_types.size() == schema.columns.size() && !column_types.empty();
  const values::TypeInfo* given_types = given ? column_types.data() : nullptr;
  if (last_ != nullptr && is_current(*last_, schema, types, given_types)) return *last_;
  if (const auto it = layouts_.find(schema.id);
      it != layouts_.end() && is_current(it->second, schema, types, given_types)) {
    last_ = &it->second;
    return it->second;
  }

  if (!given) register_types(schema, types);
  RelationLayout& layout = layouts_[schema.id];
  layout.schema = &schema;
  layout.derived_from = schema;
  layout.given_types = given_types;
  layout.location.clear();
  layout.location.append("\"schema\":");
  values::write_json_string(layout.location, schema.namespace_name);
  layout.location.append(",\"table\":");
  values::write_json_string(layout.location, schema.name);
  layout.type_names.clear();
  layout.has_key = false;
  layout.columns.clear();
  layout.columns.reserve(schema.columns.size());
  for (const pgoutput::ColumnSchema& column : schema.columns) {
    ColumnLayout c;
    c.key.push_back(',');
    values::write_json_string(c.key, column.name);
    c.key.push_back(':');
    c.type = given ? column_types[layout.columns.size()] : catalog_.find(column.type_oid);
    c.type_name = std::string(c.type.name);
    c.is_key = column.is_key;
    layout.has_key |= column.is_key;
    if (!values::is_builtin_type(column.type_oid)) {
      layout.type_names.emplace_back(column.type_oid, type_name(types, column.type_oid));
    }
    layout.columns.push_back(std::move(c));
  }
  // The layout keeps its own copy of each type's name: the catalog it came
  // from may replace it. Pointed at once the columns no longer move.
  for (ColumnLayout& c : layout.columns) c.type.name = c.type_name;
  if (connect_schemas_) {
    // The schemas describe the types as they are; the values are then written
    // as the schemas say: json/jsonb as strings.
    build_connect_schemas(layout, connect_server_);
    for (ColumnLayout& c : layout.columns) json_as_text(c.type);
  } else {
    layout.envelope_schema.clear();
    layout.key_schema.clear();
  }
  last_ = &layout;
  return layout;
}

const RelationLayout* LayoutCache::find(const pgoutput::RelationSchema& schema) const noexcept {
  const auto it = layouts_.find(schema.id);
  if (it == layouts_.end() || !same_description(it->second.derived_from, schema)) return nullptr;
  return &it->second;
}

void LayoutCache::register_types(const pgoutput::RelationSchema& schema,
                                 const pgoutput::TypeCache* types) {
  bool renamed = false;
  std::vector<pgoutput::Oid> others;
  for (const pgoutput::ColumnSchema& column : schema.columns) {
    if (values::is_builtin_type(column.type_oid)) continue;
    others.push_back(column.type_oid);
    const pgoutput::TypeSchema* type = types != nullptr ? types->find(column.type_oid) : nullptr;
    if (type == nullptr) continue;
    auto [it, added] = registered_.try_emplace(column.type_oid, type->qualified_name);
    if (!added) {
      if (it->second == type->qualified_name) continue;
      it->second = type->qualified_name;
      renamed = true;
    }
    catalog_.add_type(type->id, type->namespace_name, type->name);
  }
  // Once per type: the server's catalog says what a Type message cannot (the
  // base type of a domain, the element type and delimiter of an array).
  if (server_ != nullptr && !others.empty()) renamed |= catalog_.resolve(others, *server_) != 0;
  // Layouts hold TypeInfo names that point into the catalog's replaced entries.
  if (renamed) {
    layouts_.clear();
    last_ = nullptr;
  }
}

}  // namespace vil::output::detail
