#include "vil/pgoutput/relation_cache.hpp"

namespace vil::pgoutput {
namespace {

std::string qualify(std::string_view namespace_name, std::string_view name) {
  std::string out;
  out.reserve(namespace_name.size() + 1 + name.size());
  out.append(namespace_name).append(1, '.').append(name);
  return out;
}

}  // namespace

const RelationSchema& RelationCache::store(const Relation& relation) {
  auto schema = std::make_shared<RelationSchema>();
  schema->id = relation.id;
  schema->namespace_name = relation.namespace_name;
  schema->name = relation.name;
  schema->qualified_name = qualify(relation.namespace_name, relation.name);
  schema->replica_identity = relation.replica_identity;
  schema->columns.reserve(relation.columns.size());
  for (const RelationColumn& column : relation.columns) {
    schema->columns.push_back(ColumnSchema{std::string(column.name), column.type_oid,
                                           column.type_modifier, column.is_key()});
  }
  const RelationSchema& stored = *schema;
  relations_.insert_or_assign(relation.id, std::move(schema));
  return stored;
}

const RelationSchema* RelationCache::find(Oid id) const noexcept {
  const auto it = relations_.find(id);
  return it == relations_.end() ? nullptr : it->second.get();
}

std::shared_ptr<const RelationSchema> RelationCache::share(Oid id) const {
  const auto it = relations_.find(id);
  return it == relations_.end() ? nullptr : it->second;
}

const TypeSchema& TypeCache::store(const Type& type) {
  auto schema = std::make_unique<TypeSchema>();
  schema->id = type.id;
  schema->namespace_name = type.namespace_name;
  schema->name = type.name;
  schema->qualified_name = qualify(type.namespace_name, type.name);
  const TypeSchema& stored = *schema;
  types_.insert_or_assign(type.id, std::move(schema));
  return stored;
}

const TypeSchema* TypeCache::find(Oid id) const noexcept {
  const auto it = types_.find(id);
  return it == types_.end() ? nullptr : it->second.get();
}

}  // namespace vil::pgoutput
