// What this layer knows about a column's type: which text form it has (TypeKind), for built-in
// types and for types a caller registers at run time (pgoutput Type messages, and what the
// server's catalog says of domains and arrays the stream names only by OID).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace vil::values {

// The text forms this layer understands. Several OIDs share one kind (text, varchar, bpchar,
// name, "char" and xml are all Text).
enum class TypeKind : uint8_t {
  Unknown,  // not understood: the text is kept as it is
  Bool,
  Int2,
  Int4,
  Int8,
  Oid,
  Float4,
  Float8,
  Numeric,
  Text,
  Bytea,
  Uuid,
  Json,
  Jsonb,
  Date,
  Time,
  TimeTz,
  Timestamp,
  TimestampTz,
  Interval,
  Array,
};

// PostgreSQL's name for a kind ("int4", "timestamptz", "text", "array", "unknown").
std::string_view kind_name(TypeKind kind) noexcept;

struct TypeInfo {
  uint32_t oid = 0;
  TypeKind kind = TypeKind::Unknown;
  TypeKind element_kind = TypeKind::Unknown;  // arrays only
  uint32_t element_oid = 0;                   // arrays only
  std::string_view name;  // pg_type's name ("int4", "_int4"), or the registered one
  char delimiter = ',';   // arrays only: what separates elements (';' for box)
};

// A built-in type, or {oid, Unknown, name ""} when `oid` is not one this layer knows. Built-in
// types without a text form of their own here (inet, point, int4range, ...) are Unknown with
// their name; arrays of every built-in type are Array.
TypeInfo builtin_type(uint32_t oid) noexcept;

// Whether `oid` is a built-in type this layer lists (a scalar with a kind, an element type of
// a built-in array, or such an array), so that nothing need be asked about it.
bool is_builtin_type(uint32_t oid) noexcept;

// What the server's catalog (pg_type) says of a type the stream names only by OID: a domain
// and the type it is over, an array and its element type, or another type (enum, composite,
// range, a base type of an extension) whose values keep their text.
struct TypeDescription {
  uint32_t oid = 0;
  std::string schema;
  std::string name;
  uint32_t base_oid = 0;     // a domain: its base type (itself perhaps a domain)
  uint32_t element_oid = 0;  // an array type: its element type
  char delimiter = ',';      // an array type: its element type's delimiter
};

// What the stream leaves out and only the server can say. Implemented over a database
// connection (vil::cdc::CatalogConnection); this layer only asks.
class ServerCatalog {
 public:
  virtual ~ServerCatalog() = default;
  // The descriptions of those of `oids` the server knows, in any order (an OID it does not
  // know is left out). nullopt when the server could not be asked: the caller may ask again.
  virtual std::optional<std::vector<TypeDescription>> describe_types(
      std::span<const uint32_t> oids) = 0;
  // The database's encoding as PostgreSQL names it ("UTF8", "LATIN1", "SQL_ASCII"), or nullopt
  // when the server could not be asked.
  virtual std::optional<std::string> database_encoding() = 0;
};

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
  void add_array(uint32_t array_oid, std::string_view name, uint32_t element_oid,
                 char delimiter = ',');

  // What the server's catalog says of a type: a domain becomes an alias of its base type, an
  // array type an array of its element type, anything else keeps its text. Wins over what a
  // Type message said of the same OID and name.
  void add_description(const TypeDescription& description);

  // Asks `server` once about each of `oids` that is neither built in nor described yet, and
  // then about the base and element types those descriptions name, so that domains over
  // domains and arrays of domains resolve. An OID the server was asked about is not asked
  // again, whether it knew it or not; when the server cannot be asked, the OIDs stay
  // unresolved (kept as text) and a later call asks again. Returns how many types it
  // described: TypeInfo names found before for those OIDs are then no longer valid.
  std::size_t resolve(std::span<const uint32_t> oids, ServerCatalog& server);

  // Built-in types first, then registered ones; unknown OIDs come back as Unknown.
  TypeInfo find(uint32_t oid) const noexcept;

  std::size_t registered_count() const noexcept { return extra_.size(); }

 private:
  struct Entry {
    std::string name;
    std::string qualified_name;         // "schema.name", when a Type message or the server said
    TypeKind kind = TypeKind::Unknown;  // Unknown, Array, or resolved later for aliases
    uint32_t target_oid = 0;            // alias base or array element
    std::string element_name;           // "schema.name" of an array's element, if by name
    char delimiter = ',';               // arrays
    bool is_alias = false;
    bool described = false;  // by the server's catalog, not only named by a Type message
  };
  TypeInfo find_depth(uint32_t oid, int depth) const noexcept;

  std::unordered_map<uint32_t, Entry> extra_;
  std::unordered_map<std::string, uint32_t> by_qualified_name_;  // "schema.name" -> OID
  std::unordered_set<uint32_t> asked_;                           // OIDs the server was asked about
};

}  // namespace vil::values
