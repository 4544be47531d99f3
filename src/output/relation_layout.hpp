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
};

class LayoutCache {
 public:
  // Asked about column types the stream names only by OID (domains, arrays of
  // them, types of extensions) when a change does not bring them resolved;
  // nullptr: such columns keep their text.
  void set_server_catalog(values::ServerCatalog* server) noexcept { server_ = server; }

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
  // The "schema.name" each non built-in type was registered under: a type
  // named anew replaces its catalog entry, which ends the layouts using it.
  std::unordered_map<pgoutput::Oid, std::string> registered_;
};

}  // namespace vil::output::detail
