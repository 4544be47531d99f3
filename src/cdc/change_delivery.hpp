#pragma once
// The delivery thread's work: decode each queued frame, follow transactions,
// hand every change to the owner (Trigger lane event, Data lane change, an
// mq_log record when asked for), count, and confirm delivered transactions
// to the I/O thread once the sink flushed them. Where a run ends and what may
// be confirmed are DeliveryLedger's decisions; pause and stop are RunControl's.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ack_tracker.hpp"
#include "change_counters.hpp"
#include "delivery_ledger.hpp"
#include "incremental_snapshot.hpp"
#include "run_control.hpp"
#include "snapshot_counters.hpp"
#include "streamed_transactions.hpp"
#include "trigger_events.hpp"
#include "vil/cdc/catalog_connection.hpp"
#include "vil/cdc/cdc_config.hpp"
#include "vil/cdc/cdc_fault.hpp"
#include "vil/cdc/change.hpp"
#include "vil/core/trigger_event.hpp"
#include "vil/core/trigger_source.hpp"
#include "vil/pgoutput/decoder.hpp"
#include "vil/replication/frame_queue.hpp"
#include "vil/replication/stream_reader.hpp"

namespace vil::cdc {

// Counters that outlive one run of the trigger.
struct DeliveryCounters {
  std::atomic<uint64_t>& rows_changed;
  std::atomic<uint64_t>& last_event_ns;
  std::atomic<uint64_t>& events_fired;
  std::atomic<uint64_t>& transactions;
  SnapshotCounters& snapshot;
  ChangeCounters& changes;
};

class ChangeDelivery {
 public:
  using NoticeCallback = std::function<void(const std::string&)>;

  // `acks`: the trigger's tracker, begun for this run, when the sink is an
  // AsyncChangeSink.
  ChangeDelivery(const CdcConfig& config, replication::FrameQueue& queue,
                 replication::StreamReader& reader, RunControl& control, TriggerEvents& events,
                 ChangeSink& sink, DeliveryCounters counters, NoticeCallback on_notice,
                 AckTracker* acks = nullptr);

  // Runs until the I/O thread finished, a stop, the end LSN, or a delivery
  // fault. Flushes and confirms what was delivered before returning (unless
  // the flush itself failed); nothing past a failed delivery is ever
  // confirmable. Never throws: whatever escapes becomes the fault.
  [[nodiscard]] std::optional<CdcFault> run(uint64_t end_lsn);
  // SnapshotMode::Only: reads a snapshot of its own and delivers its rows,
  // with no stream. Never throws.
  [[nodiscard]] std::optional<CdcFault> run_snapshot_only();

 private:
  enum class Step { Next, End, Fault };

  void deliver_queued();
  Step deliver(const replication::QueueItem& item);
  Step deliver_frame(const replication::WalFrame& frame);
  Step deliver_message(const pgoutput::DecodedMessage& decoded, pgoutput::Lsn lsn,
                       size_t payload_bytes);
  Step deliver_change(Change& change);
  // A message the decoder refused, as the fault that names it.
  Step decode_failed(const pgoutput::DecodeError& error);
  // A change inside a Stream Start/Stop block: kept until its transaction's
  // Stream Commit or Stream Abort.
  Step keep_streamed(const replication::WalFrame& frame);
  // Stream Commit: the transaction's kept changes, delivered as one that was
  // not streamed (Begin, its changes, Commit).
  Step deliver_streamed(const pgoutput::StreamCommit& commit, pgoutput::Lsn lsn);
  // One of vil-cdc's own logical messages: a snapshot request, a watermark.
  void take_own_message(const pgoutput::LogicalMessage& message);
  // The incremental snapshot's chunk whose high watermark committed at `lsn`,
  // as Read changes; then the next chunk starts.
  Step deliver_chunk(pgoutput::Lsn lsn);
  // A row a snapshot read, placed at `at` (its consistent point or its
  // chunk's high watermark) with `ordinal`, read at `taken_ns`.
  [[nodiscard]] Change read_change(const SnapshotTable& table, pgoutput::TupleView tuple,
                                   pgoutput::Lsn at, int64_t taken_ns, uint32_t ordinal) const;
  // The table's column types, as for the stream's relations.
  void describe_table(const SnapshotTable& table);
  // A snapshot table's start or end, as an mq_log record (docs/DESIGN.md §2.4).
  void log_table(const SnapshotTable& table, bool started, uint64_t rows);
  // Reads the snapshot `name` (empty: one of its own) and delivers every row
  // as a Read change placed at `consistent_point`; then tells the I/O thread
  // that the stream may start.
  Step deliver_snapshot(const std::string& name, uint64_t consistent_point);
  // After a transaction's end or a server position: with an asynchronous
  // sink, where the acknowledgements may confirm up to.
  void note_boundary();
  // Flushes, publishes what the acknowledgements allow, and with an
  // asynchronous sink waits for more of them until `enough` holds (End on a
  // stop, Fault on a failure).
  Step wait_for_acks(const std::function<bool()>& enough);
  // Flushes and, with an asynchronous sink, waits until everything handed
  // over was acknowledged: before progress that outlives the run (a
  // snapshot's state, its slot) is kept. False on a failure or a stop.
  bool settle();
  // The run ends: an asynchronous sink waits for what is in flight, and what
  // was acknowledged is confirmed.
  void drain_async();
  // Flushes the sink if anything was delivered since it last did, then
  // confirms the ledger's LSN to the I/O thread if it moved.
  void flush_and_publish();
  // False when delivery must end (the I/O thread finished while paused, or a
  // callback failed).
  bool wait_while_paused();
  // Between two changes read outside the frame loop (a snapshot row, a
  // streamed transaction's replay): waits out a pause; false on a stop or
  // an end, with `step` set to what ends delivery.
  bool may_go_on(Step& step);
  Step fail(CdcFault fault);

  const CdcConfig& config_;
  replication::FrameQueue& queue_;
  replication::StreamReader& reader_;
  RunControl& control_;
  TriggerEvents& events_;
  ChangeSink& sink_;
  DeliveryCounters counters_;
  NoticeCallback on_notice_;
  DeliveryLedger ledger_;

  pgoutput::Decoder decoder_;
  uint32_t slot_hash_;
  uint32_t publication_hash_;
  // What is derived once per relation description: the hash of its name and
  // its columns' types (Change::column_types).
  struct RelationState {
    uint32_t table_hash = 0;
    std::vector<values::TypeInfo> column_types;
  };
  // The column types of `relation`, resolved through the server's catalog
  // for those the stream names only by OID.
  void describe_columns(const pgoutput::RelationSchema& relation, RelationState& state);
  std::unordered_map<pgoutput::Oid, RelationState> relations_;
  values::TypeCatalog types_;
  std::unique_ptr<CatalogConnection> catalog_;  // opened when first needed
  std::string database_encoding_;               // the session's server_encoding
  std::vector<const pgoutput::RelationSchema*> truncated_;
  IncrementalSnapshot incremental_;
  StreamedTransactions streamed_;
  AsyncChangeSink* async_;  // the sink, when it acknowledges later
  AckTracker* acks_;        // with async_: the trigger's, begun for this run
  bool acks_full_ = false;  // the last change handed over filled its window

  // vil-cdc's own messages in the transaction being delivered: requests
  // taken at its Commit, a high watermark whose chunk is delivered there.
  std::vector<std::vector<std::byte>> requests_;
  bool withheld_messages_ = false;  // it held messages the owner does not get
  std::optional<pgoutput::Lsn> high_watermark_;

  // The transaction being delivered.
  uint32_t xid_ = 0;
  pgoutput::Lsn commit_lsn_;
  int64_t commit_time_ns_ = 0;
  uint32_t ordinal_ = 0;

  // The time given to a snapshot's rows, read every 256th (deliver_change).
  uint64_t read_clock_ns_ = 0;
  uint32_t reads_since_clock_ = 0;

  replication::FrameArena::Block* current_block_ = nullptr;  // of the frame last delivered
  uint64_t published_lsn_ = 0;  // the last LSN confirmed to the I/O thread
  bool unflushed_ = false;      // the sink was called since it last flushed
  size_t bytes_since_flush_ = 0;
  std::optional<CdcFault> fault_;
  bool flush_failed_ = false;  // the sink is not flushed again
};

}  // namespace vil::cdc
