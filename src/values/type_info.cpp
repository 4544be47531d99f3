#include "vil/values/type_info.hpp"

#include "vil/values/oids.hpp"

namespace vil::values {

std::string_view kind_name(TypeKind kind) noexcept {
  switch (kind) {
    case TypeKind::kUnknown:
      return "unknown";
    case TypeKind::kBool:
      return "bool";
    case TypeKind::kInt2:
      return "int2";
    case TypeKind::kInt4:
      return "int4";
    case TypeKind::kInt8:
      return "int8";
    case TypeKind::kOid:
      return "oid";
    case TypeKind::kFloat4:
      return "float4";
    case TypeKind::kFloat8:
      return "float8";
    case TypeKind::kNumeric:
      return "numeric";
    case TypeKind::kText:
      return "text";
    case TypeKind::kBytea:
      return "bytea";
    case TypeKind::kUuid:
      return "uuid";
    case TypeKind::kJson:
      return "json";
    case TypeKind::kJsonb:
      return "jsonb";
    case TypeKind::kDate:
      return "date";
    case TypeKind::kTime:
      return "time";
    case TypeKind::kTimeTz:
      return "timetz";
    case TypeKind::kTimestamp:
      return "timestamp";
    case TypeKind::kTimestampTz:
      return "timestamptz";
    case TypeKind::kInterval:
      return "interval";
    case TypeKind::kArray:
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
      return {TypeKind::kBool, "bool"};
    case oid::kBytea:
      return {TypeKind::kBytea, "bytea"};
    case oid::kChar:
      return {TypeKind::kText, "char"};
    case oid::kName:
      return {TypeKind::kText, "name"};
    case oid::kInt8:
      return {TypeKind::kInt8, "int8"};
    case oid::kInt2:
      return {TypeKind::kInt2, "int2"};
    case oid::kInt4:
      return {TypeKind::kInt4, "int4"};
    case oid::kText:
      return {TypeKind::kText, "text"};
    case oid::kOid:
      return {TypeKind::kOid, "oid"};
    case oid::kJson:
      return {TypeKind::kJson, "json"};
    case oid::kXml:
      return {TypeKind::kText, "xml"};
    case oid::kFloat4:
      return {TypeKind::kFloat4, "float4"};
    case oid::kFloat8:
      return {TypeKind::kFloat8, "float8"};
    case oid::kBpchar:
      return {TypeKind::kText, "bpchar"};
    case oid::kVarchar:
      return {TypeKind::kText, "varchar"};
    case oid::kDate:
      return {TypeKind::kDate, "date"};
    case oid::kTime:
      return {TypeKind::kTime, "time"};
    case oid::kTimestamp:
      return {TypeKind::kTimestamp, "timestamp"};
    case oid::kTimestampTz:
      return {TypeKind::kTimestampTz, "timestamptz"};
    case oid::kInterval:
      return {TypeKind::kInterval, "interval"};
    case oid::kTimeTz:
      return {TypeKind::kTimeTz, "timetz"};
    case oid::kNumeric:
      return {TypeKind::kNumeric, "numeric"};
    case oid::kUuid:
      return {TypeKind::kUuid, "uuid"};
    case oid::kJsonb:
      return {TypeKind::kJsonb, "jsonb"};
    default:
      return {TypeKind::kUnknown, {}};
  }
}

constexpr std::string_view array_name(uint32_t type_oid) noexcept {
  switch (type_oid) {
    case oid::kBoolArray:
      return "_bool";
    case oid::kByteaArray:
      return "_bytea";
    case oid::kCharArray:
      return "_char";
    case oid::kNameArray:
      return "_name";
    case oid::kInt8Array:
      return "_int8";
    case oid::kInt2Array:
      return "_int2";
    case oid::kInt4Array:
      return "_int4";
    case oid::kTextArray:
      return "_text";
    case oid::kOidArray:
      return "_oid";
    case oid::kJsonArray:
      return "_json";
    case oid::kXmlArray:
      return "_xml";
    case oid::kFloat4Array:
      return "_float4";
    case oid::kFloat8Array:
      return "_float8";
    case oid::kBpcharArray:
      return "_bpchar";
    case oid::kVarcharArray:
      return "_varchar";
    case oid::kDateArray:
      return "_date";
    case oid::kTimeArray:
      return "_time";
    case oid::kTimestampArray:
      return "_timestamp";
    case oid::kTimestampTzArray:
      return "_timestamptz";
    case oid::kIntervalArray:
      return "_interval";
    case oid::kTimeTzArray:
      return "_timetz";
    case oid::kNumericArray:
      return "_numeric";
    case oid::kUuidArray:
      return "_uuid";
    case oid::kJsonbArray:
      return "_jsonb";
    default:
      return {};
  }
}

// Aliases of aliases are followed this far, so that a cycle cannot hang a lookup.
constexpr int kMaxAliasDepth = 8;

}  // namespace

TypeInfo builtin_type(uint32_t type_oid) noexcept {
  const Scalar s = scalar_type(type_oid);
  if (s.kind != TypeKind::kUnknown) return {type_oid, s.kind, TypeKind::kUnknown, 0, s.name};
  if (const uint32_t element = element_oid(type_oid); element != 0) {
    return {type_oid, TypeKind::kArray, scalar_type(element).kind, element, array_name(type_oid)};
  }
  return {type_oid, TypeKind::kUnknown, TypeKind::kUnknown, 0, {}};
}

void TypeCatalog::add_type(uint32_t type_oid, std::string_view schema, std::string_view name) {
  if (builtin_type(type_oid).kind != TypeKind::kUnknown) return;
  std::string qualified;
  qualified.reserve(schema.size() + 1 + name.size());
  qualified.append(schema).append(".").append(name);
  by_qualified_name_[qualified] = type_oid;
  Entry e;
  e.name = std::string(name);
  if (name.size() > 1 && name[0] == '_') {
    e.kind = TypeKind::kArray;
    e.element_name = std::string(schema) + "." + std::string(name.substr(1));
  }
  extra_[type_oid] = std::move(e);
}

void TypeCatalog::add_alias(uint32_t type_oid, std::string_view name, uint32_t base_oid) {
  if (builtin_type(type_oid).kind != TypeKind::kUnknown) return;
  Entry e;
  e.name = std::string(name);
  e.is_alias = true;
  e.target_oid = base_oid;
  extra_[type_oid] = std::move(e);
}

void TypeCatalog::add_array(uint32_t array_oid, std::string_view name, uint32_t element) {
  if (builtin_type(array_oid).kind != TypeKind::kUnknown) return;
  Entry e;
  e.name = std::string(name);
  e.kind = TypeKind::kArray;
  e.target_oid = element;
  extra_[array_oid] = std::move(e);
}

TypeInfo TypeCatalog::find(uint32_t type_oid) const noexcept {
  return find_depth(type_oid, 0);
}

TypeInfo TypeCatalog::find_depth(uint32_t type_oid, int depth) const noexcept {
  const TypeInfo builtin = builtin_type(type_oid);
  if (builtin.kind != TypeKind::kUnknown) return builtin;
  const auto it = extra_.find(type_oid);
  if (it == extra_.end() || depth > kMaxAliasDepth) return builtin;
  const Entry& e = it->second;
  if (e.is_alias) {
    TypeInfo base = find_depth(e.target_oid, depth + 1);
    base.oid = type_oid;
    base.name = e.name;
    return base;
  }
  if (e.kind == TypeKind::kArray) {
    uint32_t element = e.target_oid;
    if (element == 0 && !e.element_name.empty()) {
      if (const auto by_name = by_qualified_name_.find(e.element_name);
          by_name != by_qualified_name_.end()) {
        element = by_name->second;
      }
    }
    TypeKind element_kind = TypeKind::kUnknown;
    if (element != 0) element_kind = find_depth(element, depth + 1).kind;
    if (element_kind == TypeKind::kArray) element_kind = TypeKind::kUnknown;
    return {type_oid, TypeKind::kArray, element_kind, element, e.name};
  }
  return {type_oid, TypeKind::kUnknown, TypeKind::kUnknown, 0, e.name};
}

}  // namespace vil::values
