#include "vil/values/type_info.hpp"

#include <algorithm>

#include "vil/values/oids.hpp"

namespace vil::values {

std::string_view kind_name(TypeKind kind) noexcept {
  switch (kind) {
    case TypeKind::Unknown:
      return "unknown";
    case TypeKind::Bool:
      return "bool";
    case TypeKind::Int2:
      return "int2";
    case TypeKind::Int4:
      return "int4";
    case TypeKind::Int8:
      return "int8";
    case TypeKind::Oid:
      return "oid";
    case TypeKind::Float4:
      return "float4";
    case TypeKind::Float8:
      return "float8";
    case TypeKind::Numeric:
      return "numeric";
    case TypeKind::Text:
      return "text";
    case TypeKind::Bytea:
      return "bytea";
    case TypeKind::Uuid:
      return "uuid";
    case TypeKind::Json:
      return "json";
    case TypeKind::Jsonb:
      return "jsonb";
    case TypeKind::Date:
      return "date";
    case TypeKind::Time:
      return "time";
    case TypeKind::TimeTz:
      return "timetz";
    case TypeKind::Timestamp:
      return "timestamp";
    case TypeKind::TimestampTz:
      return "timestamptz";
    case TypeKind::Interval:
      return "interval";
    case TypeKind::Array:
      return "array";
  }
  return "unknown";
}

namespace {

struct Scalar {
  TypeKind kind;
  std::string_view name;
};

constexpr Scalar scalar_type(uint32_t type_oid) noexcept {
  switch (type_oid) {
    case oid::kBool:
      return {TypeKind::Bool, "bool"};
    case oid::kBytea:
      return {TypeKind::Bytea, "bytea"};
    case oid::kChar:
      return {TypeKind::Text, "char"};
    case oid::kName:
      return {TypeKind::Text, "name"};
    case oid::kInt8:
      return {TypeKind::Int8, "int8"};
    case oid::kInt2:
      return {TypeKind::Int2, "int2"};
    case oid::kInt4:
      return {TypeKind::Int4, "int4"};
    case oid::kText:
      return {TypeKind::Text, "text"};
    case oid::kOid:
      return {TypeKind::Oid, "oid"};
    case oid::kJson:
      return {TypeKind::Json, "json"};
    case oid::kXml:
      return {TypeKind::Text, "xml"};
    case oid::kFloat4:
      return {TypeKind::Float4, "float4"};
    case oid::kFloat8:
      return {TypeKind::Float8, "float8"};
    case oid::kBpchar:
      return {TypeKind::Text, "bpchar"};
    case oid::kVarchar:
      return {TypeKind::Text, "varchar"};
    case oid::kDate:
      return {TypeKind::Date, "date"};
    case oid::kTime:
      return {TypeKind::Time, "time"};
    case oid::kTimestamp:
      return {TypeKind::Timestamp, "timestamp"};
    case oid::kTimestampTz:
      return {TypeKind::TimestampTz, "timestamptz"};
    case oid::kInterval:
      return {TypeKind::Interval, "interval"};
    case oid::kTimeTz:
      return {TypeKind::TimeTz, "timetz"};
    case oid::kNumeric:
      return {TypeKind::Numeric, "numeric"};
    case oid::kUuid:
      return {TypeKind::Uuid, "uuid"};
    case oid::kJsonb:
      return {TypeKind::Jsonb, "jsonb"};
    default:
      return {TypeKind::Unknown, {}};
  }
}

// Aliases of aliases are followed this far, so that a cycle cannot hang a lookup.
constexpr int kMaxAliasDepth = 8;

}  // namespace

TypeInfo builtin_type(uint32_t type_oid) noexcept {
  const Scalar s = scalar_type(type_oid);
  if (s.kind != TypeKind::Unknown) return {type_oid, s.kind, TypeKind::Unknown, 0, s.name};
  if (const BuiltinArray* a = builtin_array(type_oid); a != nullptr) {
    return {type_oid,       TypeKind::Array, scalar_type(a->element_oid).kind,
            a->element_oid, a->array_name,   a->delimiter};
  }
  // An element type of a built-in array without a kind of its own: text, with its name.
  for (const BuiltinArray& a : kBuiltinArrays) {
    if (a.element_oid == type_oid)
      return {type_oid, TypeKind::Unknown, TypeKind::Unknown, 0, a.element_name};
  }
  return {type_oid, TypeKind::Unknown, TypeKind::Unknown, 0, {}};
}

bool is_builtin_type(uint32_t type_oid) noexcept {
  return !builtin_type(type_oid).name.empty();
}

void TypeCatalog::add_type(uint32_t type_oid, std::string_view schema, std::string_view name) {
  if (is_builtin_type(type_oid)) return;
  std::string qualified;
  qualified.reserve(schema.size() + 1 + name.size());
  qualified.append(schema).append(".").append(name);
  if (const auto it = extra_.find(type_oid);
      it != extra_.end() && it->second.described && it->second.qualified_name == qualified) {
    return;  // the server's description says more than the name
  }
  by_qualified_name_[qualified] = type_oid;
  asked_.erase(type_oid);  // named anew: what the server said before may be stale
  Entry e;
  e.name = std::string(name);
  e.qualified_name = std::move(qualified);
  if (name.size() > 1 && name[0] == '_') {
    e.kind = TypeKind::Array;
    e.element_name = std::string(schema) + "." + std::string(name.substr(1));
  }
  extra_[type_oid] = std::move(e);
}

void TypeCatalog::add_alias(uint32_t type_oid, std::string_view name, uint32_t base_oid) {
  if (is_builtin_type(type_oid)) return;
  Entry e;
  e.name = std::string(name);
  e.is_alias = true;
  e.target_oid = base_oid;
  extra_[type_oid] = std::move(e);
}

void TypeCatalog::add_array(uint32_t array_oid, std::string_view name, uint32_t element,
                            char delimiter) {
  if (is_builtin_type(array_oid)) return;
  Entry e;
  e.name = std::string(name);
  e.kind = TypeKind::Array;
  e.target_oid = element;
  e.delimiter = delimiter;
  extra_[array_oid] = std::move(e);
}

void TypeCatalog::add_description(const TypeDescription& d) {
  if (is_builtin_type(d.oid)) return;
  Entry e;
  e.name = d.name;
  e.qualified_name = d.schema + "." + d.name;
  e.described = true;
  if (d.base_oid != 0) {
    e.is_alias = true;
    e.target_oid = d.base_oid;
  } else if (d.element_oid != 0) {
    e.kind = TypeKind::Array;
    e.target_oid = d.element_oid;
    e.delimiter = d.delimiter;
  }
  by_qualified_name_[e.qualified_name] = d.oid;
  extra_[d.oid] = std::move(e);
}

std::size_t TypeCatalog::resolve(std::span<const uint32_t> oids, ServerCatalog& server) {
  const auto unresolved = [this](uint32_t type_oid) {
    if (type_oid == 0 || is_builtin_type(type_oid) || asked_.contains(type_oid)) return false;
    const auto it = extra_.find(type_oid);
    return it == extra_.end() || !it->second.described;
  };
  std::vector<uint32_t> ask;
  for (const uint32_t type_oid : oids) {
    if (unresolved(type_oid) && std::find(ask.begin(), ask.end(), type_oid) == ask.end()) {
      ask.push_back(type_oid);
    }
  }
  // Each round follows one more link of a chain of domains or arrays.
  std::size_t added = 0;
  for (int round = 0; !ask.empty() && round <= kMaxAliasDepth; ++round) {
    auto described = server.describe_types(ask);
    if (!described) break;
    asked_.insert(ask.begin(), ask.end());
    std::vector<uint32_t> next;
    for (const TypeDescription& d : *described) {
      if (std::find(ask.begin(), ask.end(), d.oid) == ask.end()) continue;  // not what we asked
      add_description(d);
      ++added;
      for (const uint32_t linked : {d.base_oid, d.element_oid}) {
        if (unresolved(linked) && std::find(next.begin(), next.end(), linked) == next.end()) {
          next.push_back(linked);
        }
      }
    }
    ask = std::move(next);
  }
  return added;
}

TypeInfo TypeCatalog::find(uint32_t type_oid) const noexcept {
  return find_depth(type_oid, 0);
}

TypeInfo TypeCatalog::find_depth(uint32_t type_oid, int depth) const noexcept {
  const TypeInfo builtin = builtin_type(type_oid);
  if (!builtin.name.empty()) return builtin;
  const auto it = extra_.find(type_oid);
  if (it == extra_.end() || depth > kMaxAliasDepth) return builtin;
  const Entry& e = it->second;
  if (e.is_alias) {
    TypeInfo base = find_depth(e.target_oid, depth + 1);
    base.oid = type_oid;
    base.name = e.name;
    return base;
  }
  if (e.kind == TypeKind::Array) {
    uint32_t element = e.target_oid;
    if (element == 0 && !e.element_name.empty()) {
      if (const auto by_name = by_qualified_name_.find(e.element_name);
          by_name != by_qualified_name_.end()) {
        element = by_name->second;
      }
    }
    TypeKind element_kind = TypeKind::Unknown;
    if (element != 0) element_kind = find_depth(element, depth + 1).kind;
    if (element_kind == TypeKind::Array) element_kind = TypeKind::Unknown;
    return {type_oid, TypeKind::Array, element_kind, element, e.name, e.delimiter};
  }
  return {type_oid, TypeKind::Unknown, TypeKind::Unknown, 0, e.name};
}

}  // namespace vil::values
