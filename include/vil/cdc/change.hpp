#pragma once
// Change: one decoded change on the Data lane, with everything a consumer
// needs to place it (LSNs, transaction, commit time, its ordinal inside the
// transaction) and the rows before and after as views into the frame it came
// in. The views live until the callback returns; copy what you keep.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "vil/cdc/row_changed.hpp"
#include "vil/cdc/row_view.hpp"
#include "vil/pgoutput/lsn.hpp"
#include "vil/pgoutput/messages.hpp"
#include "vil/pgoutput/relation_cache.hpp"
#include "vil/values/type_info.hpp"

namespace vil::cdc {

// Read: a row as a snapshot found it (docs/DESIGN.md §6.8), not a change the
// stream carried.
enum class ChangeKind : uint8_t { Insert, Update, Delete, Truncate, Message, Read };

// "insert", "update", "delete", "truncate", "message", "read".
std::string_view to_string(ChangeKind kind) noexcept;

struct Change {
  ChangeKind kind = ChangeKind::Insert;
  uint64_t sequence = 0;       // trigger-wide, never reset: TriggerEvent::sequence of row changes
  uint32_t ordinal = 0;        // position inside its transaction, from 0 (the JSON "seq")
  pgoutput::Lsn lsn;           // the change's own WAL position
  pgoutput::Lsn commit_lsn;    // its transaction's commit; zero for a non-transactional
                               // message; a Read's: the snapshot's consistent point
  uint32_t xid = 0;            // zero for a non-transactional message and a Read
  int64_t commit_time_ns = 0;  // Unix epoch; for a non-transactional message (whose WAL record
                               // holds no time), when the trigger delivered it

  // Insert, Update, Delete, Read: the relation as the server last described it.
  const pgoutput::RelationSchema* relation = nullptr;
  // The old row (Update, Delete) as REPLICA IDENTITY provides it: none, the
  // key columns (others null), or the full row.
  pgoutput::OldTuple old_kind = pgoutput::OldTuple::None;
  pgoutput::TupleView old_tuple;
  pgoutput::TupleView new_tuple;  // Insert, Update, Read
  size_t row_bytes = 0;           // bytes of the row data on the wire
  RowChanged summary{};           // Insert, Update, Delete, Read (as an insert)

  // Truncate: the relations, in the statement's order.
  std::span<const pgoutput::RelationSchema* const> truncated;
  bool cascade = false;
  bool restart_identity = false;

  // Read: the snapshot's last row (Debezium's source.snapshot "last").
  bool snapshot_last = false;
  // Read: a row an incremental snapshot read while streaming (§6.9;
  // Debezium's source.snapshot "incremental"), placed at its chunk's high
  // watermark: commit_lsn is that watermark's LSN.
  bool incremental_snapshot = false;

  // Message (pg_logical_emit_message).
  std::string_view prefix;
  std::span<const std::byte> content;
  bool transactional = false;

  // Names of the non built-in types (enums, domains) the server described.
  const pgoutput::TypeCache* types = nullptr;
  // Insert, Update, Delete, Read: each column's type as the values layer knows it,
  // in `relation`'s order. Domains and arrays the stream names only by OID
  // are resolved through the server's catalog, once per type, by the trigger
  // (docs/DESIGN.md §4.3); empty when not known (a Change built by hand).
  std::span<const values::TypeInfo> column_types;
  // The database's encoding as PostgreSQL names it ("UTF8", "LATIN1"): what
  // a message's content is in. Empty when not known.
  std::string_view database_encoding;

  // Inside a transaction: every kind but a Read and a non-transactional
  // Message. Such a change has no Commit after it.
  [[nodiscard]] bool in_transaction() const noexcept {
    if (kind == ChangeKind::Read) return false;
    return kind != ChangeKind::Message || transactional;
  }

  // The rows, typed (row_view.hpp); empty when the change has no such row.
  // The old row is the key columns (others null) or the whole row, as
  // `old_kind` says.
  [[nodiscard]] RowView new_row() const noexcept;
  [[nodiscard]] RowView old_row() const noexcept;
};

// A transaction whose changes were all delivered.
struct TransactionEnd {
  uint32_t xid = 0;
  pgoutput::Lsn commit_lsn;
  pgoutput::Lsn end_lsn;  // what is confirmed to the server once flushed
  int64_t commit_time_ns = 0;
  uint32_t changes = 0;
};

// The owner of the Data lane. Calls come from the thread that runs start(),
// one at a time, in commit order.
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  virtual void on_change(const Change& change) = 0;
  // After a transaction's last change.
  virtual void on_commit(const TransactionEnd& /*transaction*/) {}
  // Make everything delivered so far durable (write and flush a file, say);
  // the trigger confirms an LSN to the server only after this returns.
  virtual void flush() {}
};

// What an AsyncChangeSink tells the trigger, from any thread, about the
// changes it took (docs/DESIGN.md §3.1). The trigger owns it.
class DeliveryAcks {
 public:
  virtual ~DeliveryAcks() = default;
  // The change with this Change::sequence reached its destination (the
  // broker acknowledged it). In any order; a sequence acknowledged twice, or
  // never handed over, is ignored.
  virtual void acknowledge(uint64_t sequence) = 0;
  // It never will: the run ends with DeliveryFailed{sequence}, whose message
  // names `destination` and `cause`, and nothing from that change on is
  // confirmed.
  virtual void fail(uint64_t sequence, std::string destination, std::string cause) = 0;
};

// A sink whose destination confirms changes after on_change() returned, on
// a thread of its own (a broker producer). A change counts as delivered
// only once acknowledged: the trigger confirms to the server the end of the
// last transaction whose every change was acknowledged, in commit order,
// whatever order the acknowledgements come in. At most
// CdcConfig::max_in_flight changes (and max_in_flight_bytes of their rows)
// wait for acknowledgement; at the bound the trigger stops handing over
// changes, and so stops reading from the server, until acknowledgements
// make room. flush() pushes out what the sink buffered, without waiting for
// acknowledgements.
class AsyncChangeSink : public ChangeSink {
 public:
  // Before the first change of each run; `acks` is valid until drain()
  // returned.
  virtual void bind(DeliveryAcks& acks) = 0;
  // The window is full: the trigger hands over nothing more until
  // acknowledgements make room. Send whatever is held back now, even part
  // of a transaction, or nothing would ever be acknowledged. By default,
  // flush().
  virtual void window_full() { flush(); }
  // The run ends: wait, as long as the destination's own time-out allows,
  // for the acknowledgements of what is in flight. What is not acknowledged
  // is not confirmed, and comes again next run.
  virtual void drain() {}
};

// A ChangeSink that calls a function for each change: for owners with
// nothing to flush.
class FunctionSink final : public ChangeSink {
 public:
  explicit FunctionSink(std::function<void(const Change&)> on_change)
      : on_change_(std::move(on_change)) {}
  void on_change(const Change& change) override { on_change_(change); }

 private:
  std::function<void(const Change&)> on_change_;
};

}  // namespace vil::cdc
