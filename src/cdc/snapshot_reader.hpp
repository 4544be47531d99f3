#pragma once
// Reads every row of a publication's tables as one exported snapshot saw
// them (docs/DESIGN.md §6.8), with several connections at once, and hands
// the rows one at a time, on the caller's thread, to the delivery.
//
// Each worker is an ordinary connection that imports the snapshot (REPEATABLE
// READ, READ ONLY, SET TRANSACTION SNAPSHOT) and reads units of work with
// COPY (SELECT ...) TO STDOUT: a whole table, or a range of its heap blocks
// (ctid) when it is large, so that one big table is read by every worker.
// What is read is what the stream would send: the publication's tables, its
// column lists and row filters, a partitioned table by its root when the
// publication publishes through the root. Rows travel to the caller in
// bounded batches, as pgoutput Insert messages that the decoder validates,
// so memory stays flat whatever the tables' size.

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "publication_tables.hpp"
#include "vil/pgoutput/tuple.hpp"

namespace vil::cdc {

// One unit of work: a table, or a range of its heap blocks.
struct SnapshotUnit {
  size_t table;                        // in tables()
  std::optional<uint64_t> from_block;  // nullopt: from the start
  std::optional<uint64_t> to_block;    // nullopt: to the end
};

struct SnapshotSettings {
  std::string conn_string;
  std::string publication;
  // The snapshot to import (CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT);
  // empty: the reader exports one of its own (pg_export_snapshot()) and
  // reports the WAL position it was taken at.
  std::string snapshot_name;
  uint32_t workers = 1;
  // A table of more heap blocks (8 KiB each) than this is read in ranges of
  // this many, so that several workers share it.
  uint64_t blocks_per_unit = 4096;
};

class SnapshotReader {
 public:
  // What deliver() is given for each row.
  struct Row {
    const SnapshotTable* table;
    pgoutput::TupleView tuple;  // valid until deliver() returns
    bool last;                  // the snapshot's last row
  };
  // Returns false to stop reading (stop(), a failed callback).
  using Deliver = std::function<bool(const Row&)>;
  // Every row of units()[unit] was given to deliver() (and returned).
  using UnitDone = std::function<void(size_t unit)>;

  explicit SnapshotReader(SnapshotSettings settings);
  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  // Connects the first worker, exports or imports the snapshot and lists the
  // publication's tables in it. The error is a whole sentence for a person.
  std::expected<void, std::string> open();
  [[nodiscard]] const std::vector<SnapshotTable>& tables() const;
  // How the tables are cut into units of work, in the order workers take them.
  [[nodiscard]] const std::vector<SnapshotUnit>& units() const;
  // The WAL position of a snapshot this reader exported (0 when imported).
  [[nodiscard]] uint64_t exported_at() const;

  // Reads every table. Returns true when every row was delivered, false
  // when deliver() said stop, or the error.
  std::expected<bool, std::string> read(const Deliver& deliver, const UnitDone& unit_done = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One line of COPY's text format as the columns of a pgoutput tuple
// ('n' for \N, 't' + Int32 length + the unescaped text otherwise), appended
// to `out`. False when the line does not have `columns` fields.
bool append_copy_row(std::string_view line, uint16_t columns, std::vector<std::byte>& out);

}  // namespace vil::cdc
