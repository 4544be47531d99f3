// What this layer knows about a column's type: which text form it has (TypeKind), for built-in
// types and for types a caller registers at run time (pgoutput Type messages, domains).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace vil::values {

// The text forms this layer understands. Several OIDs share one kind (text, varchar, bpchar,
// name, "char" and xml are all kText).
enum class TypeKind : uint8_t {
  kUnknown,  // not understood: the text is kept as it is
  kBool,
  kInt2,
  kInt4,
  kInt8,
  kOid,
  kFloat4,
  kFloat8,
  kNumeric,
  kText,
  kBytea,
  kUuid,
  kJson,
  kJsonb,
  kDate,
  kTime,
  kTimeTz,
  kTimestamp,
  kTimestampTz,
  kInterval,
  kArray,
};

// PostgreSQL's name for a kind ("int4", "timestamptz", "text", "array", "unknown").
std::string_view kind_name(TypeKind kind) noexcept;

struct TypeInfo {
  uint32_t oid = 0;
  TypeKind kind = TypeKind::kUnknown;
  TypeKind element_kind = TypeKind::kUnknown;  // arrays only
  uint32_t element_oid = 0;                    // arrays only
  std::string_view name;  // pg_type's name ("int4", "_int4"), or the registered one
};

// A built-in type, or {oid, kUnknown, name ""} when `oid` is not one this layer knows.
TypeInfo builtin_type(uint32_t oid) noexcept;

// The built-in types plus those a connection learns about at run time. Not thread-safe for
// writes; lookups through a const catalog are. The names that find() hands out stay valid
// while the catalog lives and that OID is not registered again.
class TypeCatalog {
 public:
  // What a pgoutput Type message says: OID, schema and name of a type that is not built in
  // (an enum, a domain, a composite, a range, or the array type of one). Its values keep
  // their text, except that a name starting with '_' is taken as an array type (PostgreSQL
  // names array types so) whose elements are the type of the rest of the name in the same
  // schema, if registered, or else kept as text. Registering a built-in OID does nothing.
  void add_type(uint32_t oid, std::string_view schema, std::string_view name);

  // A type whose text form is that of `base_oid` (a domain over it, for example). The base
  // may be built in or registered; an array base makes this an array type.
  void add_alias(uint32_t oid, std::string_view name, uint32_t base_oid);

  // An array type whose elements have type `element_oid` (built in or registered).
  void add_array(uint32_t array_oid, std::string_view name, uint32_t element_oid);

  // Built-in types first, then registered ones; unknown OIDs come back as kUnknown.
  TypeInfo find(uint32_t oid) const noexcept;

  std::size_t registered_count() const noexcept { return extra_.size(); }

 private:
  struct Entry {
    std::string name;
    TypeKind kind = TypeKind::kUnknown;  // kUnknown, kArray, or resolved later for aliases
    uint32_t target_oid = 0;             // alias base or array element
    std::string element_name;            // "schema.name" of an array's element, if by name
    bool is_alias = false;
  };
  TypeInfo find_depth(uint32_t oid, int depth) const noexcept;

  std::unordered_map<uint32_t, Entry> extra_;
  std::unordered_map<std::string, uint32_t> by_qualified_name_;  // "schema.name" -> OID
};

}  // namespace vil::values
