#pragma once
// What Relation and Type messages said, kept for the changes that follow:
// pgoutput names a relation by id only after describing it once per session.
// Relations are rare, so the cache owns copies of the names.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "vil/pgoutput/messages.hpp"

namespace vil::pgoutput {

struct ColumnSchema {
  std::string name;
  Oid type_oid = 0;
  std::int32_t type_modifier = -1;
  bool is_key = false;  // part of the replica identity
};

struct RelationSchema {
  Oid id = 0;
  std::string namespace_name;
  std::string name;
  std::string qualified_name;  // namespace_name + '.' + name
  ReplicaIdentity replica_identity = ReplicaIdentity::DefaultKey;
  std::vector<ColumnSchema> columns;
};

class RelationCache {
 public:
  // Stores the description, replacing any earlier one for the same id. Holders
  // of the earlier one through share() keep it.
  const RelationSchema& store(const Relation& relation);

  // nullptr when the id was never described. Valid until the next store() for
  // the same id or clear().
  [[nodiscard]] const RelationSchema* find(Oid id) const noexcept;
  // The same, kept alive for as long as the caller holds it (for changes that
  // outlive a later schema change, as in a buffered transaction).
  [[nodiscard]] std::shared_ptr<const RelationSchema> share(Oid id) const;

  [[nodiscard]] std::size_t size() const noexcept { return relations_.size(); }
  void clear() noexcept { relations_.clear(); }

 private:
  std::unordered_map<Oid, std::shared_ptr<const RelationSchema>> relations_;
};

struct TypeSchema {
  Oid id = 0;
  std::string namespace_name;
  std::string name;
  std::string qualified_name;  // namespace_name + '.' + name
};

// Type messages: names of the non built-in types (enums, domains, composites,
// extension types) used by described relations.
class TypeCache {
 public:
  const TypeSchema& store(const Type& type);
  [[nodiscard]] const TypeSchema* find(Oid id) const noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return types_.size(); }
  void clear() noexcept { types_.clear(); }

 private:
  std::unordered_map<Oid, std::unique_ptr<TypeSchema>> types_;
};

}  // namespace vil::pgoutput
