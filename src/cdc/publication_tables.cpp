#include "publication_tables.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "snapshot_connection.hpp"

namespace vil::cdc {

namespace {

pgoutput::ReplicaIdentity replica_identity(char c) {
  switch (c) {
    case 'n':
      return pgoutput::ReplicaIdentity::Nothing;
    case 'f':
      return pgoutput::ReplicaIdentity::Full;
    case 'i':
      return pgoutput::ReplicaIdentity::Index;
    default:
      return pgoutput::ReplicaIdentity::DefaultKey;
  }
}

// The columns the stream would send, with its key flags: the primary key's
// (REPLICA IDENTITY DEFAULT), the identity index's (USING INDEX), every
// column (FULL), none (NOTHING). The publication's column list ($2, from
// PostgreSQL 15 on) names the columns it publishes, generated ones among them
// when it publishes those (18: publish_generated_columns = stored); without
// one (14) generated columns are never published.
constexpr const char* kColumns =
    "SELECT a.attname, a.atttypid, a.atttypmod,"
    " coalesce(a.attnum = ANY (i.indkey), false)"
    " FROM pg_catalog.pg_attribute a"
    " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
    " LEFT JOIN pg_catalog.pg_index i ON i.indrelid = a.attrelid"
    "  AND ((c.relreplident = 'd' AND i.indisprimary) OR (c.relreplident = 'i' AND "
    "i.indisreplident))"
    " WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped"
    "  AND CASE WHEN $2::pg_catalog.name[] IS NULL THEN a.attgenerated = ''"
    "   ELSE a.attname = ANY ($2::pg_catalog.name[]) END"
    " ORDER BY a.attnum";

// The incremental snapshot's key, in index order: the identity index's under
// USING INDEX (what deletes carry), the primary key's otherwise.
constexpr const char* kChunkKey =
    "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)"
    " FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_index i ON i.indrelid = c.oid"
    "  AND CASE WHEN c.relreplident = 'i' THEN i.indisreplident ELSE i.indisprimary END"
    " CROSS JOIN LATERAL pg_catalog.generate_subscripts(i.indkey::pg_catalog.int2[], 1) AS k(n)"
    " JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = "
    "(i.indkey::pg_catalog.int2[])[k.n]"
    " WHERE c.oid = $1::pg_catalog.oid ORDER BY k.n";

// Reads the columns and the chunk key of `table` (its schema's id set).
std::expected<void, std::string> describe_table(PGconn* c, SnapshotTable& table, char identity,
                                                const char* column_list) {
  auto& schema = table.schema;
  const std::string oid = std::to_string(schema.id);
  const char* column_params[] = {oid.c_str(), column_list};
  PqResult columns(PQexecParams(c, kColumns, 2, nullptr, column_params, nullptr, nullptr, 0));
  if (columns.status() != PGRES_TUPLES_OK) {
    return std::unexpected(fmt::format("reading the columns of {}: {}", schema.qualified_name,
                                       one_line(PQerrorMessage(c))));
  }
  for (int i = 0; i < PQntuples(columns.get()); ++i) {
    pgoutput::ColumnSchema column;
    column.name = PQgetvalue(columns.get(), i, 0);
    column.type_oid =
        static_cast<pgoutput::Oid>(std::strtoul(PQgetvalue(columns.get(), i, 1), nullptr, 10));
    column.type_modifier =
        static_cast<int32_t>(std::strtol(PQgetvalue(columns.get(), i, 2), nullptr, 10));
    column.is_key = identity == 'f' || PQgetvalue(columns.get(), i, 3)[0] == 't';
    if (!table.select_list.empty()) table.select_list += ", ";
    table.select_list += quote_identifier(c, column.name);
    schema.columns.push_back(std::move(column));
  }

  const char* key_params[] = {oid.c_str()};
  PqResult key(PQexecParams(c, kChunkKey, 1, nullptr, key_params, nullptr, nullptr, 0));
  if (key.status() != PGRES_TUPLES_OK) {
    return std::unexpected(fmt::format("reading the key of {}: {}", schema.qualified_name,
                                       one_line(PQerrorMessage(c))));
  }
  if (PQntuples(key.get()) == 0) {
    table.key_problem = fmt::format(
        "table {} has neither a primary key nor a replica identity index", schema.qualified_name);
    return {};
  }
  for (int i = 0; i < PQntuples(key.get()); ++i) {
    const std::string_view name = PQgetvalue(key.get(), i, 0);
    size_t position = 0;
    while (position < schema.columns.size() && schema.columns[position].name != name) ++position;
    if (position == schema.columns.size()) {
      table.chunk_key.clear();
      table.chunk_key_types.clear();
      table.key_problem =
          fmt::format("the key column \"{}\" of table {} is not in the publication's column list",
                      name, schema.qualified_name);
      return {};
    }
    table.chunk_key.push_back(static_cast<uint16_t>(position));
    table.chunk_key_types.emplace_back(PQgetvalue(key.get(), i, 1));
  }
  return {};
}

}  // namespace

std::expected<std::vector<SnapshotTable>, std::string> list_publication_tables(
    PGconn* c, const std::string& publication) {
  const bool v15 = PQserverVersion(c) >= 150000;
  // Column lists and row filters are PostgreSQL 15's.
  const std::string sql = fmt::format(
      "SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpages, c.relreplident,"
      " {}, {}, c.reltuples, c.relfilenode"
      " FROM pg_catalog.pg_publication_tables pt"
      " JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname"
      " JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename"
      " WHERE pt.pubname = $1 ORDER BY n.nspname, c.relname",
      v15 ? "pt.attnames::pg_catalog.text" : "NULL", v15 ? "pt.rowfilter" : "NULL");
  const char* params[] = {publication.c_str()};
  PqResult listed(PQexecParams(c, sql.c_str(), 1, nullptr, params, nullptr, nullptr, 0));
  if (listed.status() != PGRES_TUPLES_OK) {
    return std::unexpected(fmt::format("listing the tables of publication \"{}\": {}", publication,
                                       one_line(PQerrorMessage(c))));
  }
  PqResult exists(PQexecParams(c, "SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1", 1,
                               nullptr, params, nullptr, nullptr, 0));
  if (exists.status() == PGRES_TUPLES_OK && PQntuples(exists.get()) == 0) {
    return std::unexpected(fmt::format("publication \"{}\" does not exist", publication));
  }
  std::vector<SnapshotTable> tables;
  PGresult* r = listed.get();
  for (int row = 0; row < PQntuples(r); ++row) {
    SnapshotTable table;
    auto& schema = table.schema;
    schema.id = static_cast<pgoutput::Oid>(std::strtoul(PQgetvalue(r, row, 0), nullptr, 10));
    schema.namespace_name = PQgetvalue(r, row, 1);
    schema.name = PQgetvalue(r, row, 2);
    schema.qualified_name = schema.namespace_name + "." + schema.name;
    table.partitioned = PQgetvalue(r, row, 3)[0] == 'p';
    table.pages = std::strtoull(PQgetvalue(r, row, 4), nullptr, 10);
    const char identity = PQgetvalue(r, row, 5)[0];
    schema.replica_identity = replica_identity(identity);
    if (!PQgetisnull(r, row, 7)) table.row_filter = PQgetvalue(r, row, 7);
    table.reltuples = std::strtod(PQgetvalue(r, row, 8), nullptr);
    table.relfilenode = std::strtoull(PQgetvalue(r, row, 9), nullptr, 10);
    // ONLY: an inheritance child is a table of its own; a partitioned root is
    // read with its partitions.
    table.from =
        fmt::format("{}{}.{}", table.partitioned ? "" : "ONLY ",
                    quote_identifier(c, schema.namespace_name), quote_identifier(c, schema.name));
    if (auto described = describe_table(c, table, identity,
                                        PQgetisnull(r, row, 6) ? nullptr : PQgetvalue(r, row, 6));
        !described) {
      return std::unexpected(described.error());
    }
    tables.push_back(std::move(table));
  }
  return tables;
}

}  // namespace vil::cdc
