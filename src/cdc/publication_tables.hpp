#pragma once
// The tables a publication sends, as a snapshot reads them: what the stream
// would send of each (its published columns, key flags, row filter), how to
// split it (heap blocks), and the unique key an incremental snapshot reads
// it in order of.

#include <libpq-fe.h>

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "vil/pgoutput/relation_cache.hpp"

namespace vil::cdc {

// One table as a snapshot reads it.
struct SnapshotTable {
  pgoutput::RelationSchema schema;  // the published columns, key flags as the stream's
  std::string select_list;          // the published columns, quoted
  std::string from;          // "ONLY schema.table", or the partitioned root with its partitions
  std::string row_filter;    // the publication's WHERE (PostgreSQL 15+), or empty
  bool partitioned = false;  // a partitioned root: read whole, not by blocks
  uint64_t pages = 0;        // pg_class.relpages: how to split it
  double reltuples = -1;     // pg_class.reltuples: rows, as last estimated (-1: never)
  uint64_t relfilenode = 0;  // pg_class.relfilenode: changes when the table is rewritten

  // The unique key an incremental snapshot reads the table in order of: the
  // replica identity index under REPLICA IDENTITY USING INDEX, the primary
  // key otherwise. Positions in schema.columns, in the index's order, with
  // each column's type for a cast. Empty with `key_problem` saying why.
  std::vector<uint16_t> chunk_key;
  std::vector<std::string> chunk_key_types;
  std::string key_problem;
};

// The publication's tables, ordered by schema and name. The error is a
// sentence for a person ("publication \"p\" does not exist").
std::expected<std::vector<SnapshotTable>, std::string> list_publication_tables(
    PGconn* conn, const std::string& publication);

}  // namespace vil::cdc
