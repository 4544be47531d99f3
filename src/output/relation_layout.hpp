#pragma once
// What the encoders derive once per relation description instead of once per
// row: the escaped "schema"/"table" fragment, each column's escaped key and its
// type as the values layer understands it.

#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vil/pgoutput/relation_cache.hpp"
#include "vil/values/type_info.hpp"

namespace vil::output::detail {

struct ColumnLayout {
  // ,"name":  the separator, the name as a JSON string, the colon; the first
  // column written skips the comma.
  std::string key;
  values::TypeInfo type;  // its name points into type_name
  std::string type_name;
  bool is_key = false;  // part of the replica identity

  // "name", for lists of column names.
  [[nodiscard]] std::string_view key_after(bool first) const noexcept {
    return first ? std::string_view(key).substr(1) : std::string_view(key);
  }
  [[nodiscard]] std::string_view quoted_name() const noexcept {
    return {key.data() + 1, key.size() - 2};
  }
};

struct RelationLayout {
  const pgoutput::RelationSchema* schema = nullptr;
  // A copy of what the layout was derived from: a pointer alone cannot tell a
  // new description that happens to reuse a freed one's address.
  pgoutput::RelationSchema derived_from;
  // The names the non built-in column types had then (empty: not described).
  // A same-looking description after a reconnect may name a type anew.
  std::vector<std::pair<pgoutput::Oid, std::string>> type_names;
  // The column types the trigger resolved (Change::column_types) it was
  // derived from, if any: the trigger derives them again when it learns more.
  const values::TypeInfo* given_types = nullptr;
  std::string location;  // "schema":"public","table":"orders"
  std::vector<ColumnLayout> columns;
  bool has_key = false;  // some column is part of the replica identity
  // Kafka Connect schemas (connect_schema.hpp), made only when the cache was
  // asked for them: {"schema":<envelope>,"payload": and {"schema":<key>,"payload":
  std::string envelope_schema;
  std::string key_schema;
};

class LayoutCache {
 public:
  // Asked about column types the stream names only by OID (domains, arrays of
  // them, types of extensions) when a change does not bring them resolved;
  // nullptr: such columns keep their text.
  void set_server_catalog(values::ServerCatalog* server) noexcept { server_ = server; }

  // Derive each layout's Kafka Connect schemas too (RelationLayout::
  // envelope_schema, key_schema), naming them after `server_name`, and write
  // json/jsonb values (and their arrays' elements) as JSON strings, as a
  // Connect schema can describe them. Before the first get().
  void enable_connect_schemas(std::string server_name) {
    connect_server_ = std::move(server_name);
    connect_schemas_ = true;
  }

  // The layout get() derived last for `schema`'s relation id, if it still
  // matches that description (whatever the column types were taken from);
  // nullptr otherwise. For a truncate, which names relations without rows.
  [[nodiscard]] const RelationLayout* find(const pgoutput::RelationSchema& schema) const noexcept;

  // The layout of `schema`, derived again whenever the relation was described
  // anew. `column_types` are the columns' types as the trigger resolved them
  // (Change::column_types; used when there is one per column); otherwise
  // `types` names the non built-in types (may be nullptr) and the catalog of
  // this cache resolves them. The reference is valid until the next call.
  const RelationLayout& get(const pgoutput::RelationSchema& schema,
                            const pgoutput::TypeCache* types,
                            std::span<const values::TypeInfo> column_types = {});

 private:
  void register_types(const pgoutput::RelationSchema& schema, const pgoutput::TypeCache* types);

  std::unordered_map<pgoutput::Oid, RelationLayout> layouts_;
  const RelationLayout* last_ = nullptr;  // consecutive rows mostly share a relation
  values::TypeCatalog catalog_;
  values::ServerCatalog* server_ = nullptr;
  bool connect_schemas_ = false;
  std::string connect_server_;
  // The "schema.name" each non built-in type was registered under: a type
  // named anew replaces its catalog entry, which ends the layouts using it.
  std::unordered_map<pgoutput::Oid, std::string> registered_;
};

}  // namespace vil::output::detail
