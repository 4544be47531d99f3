#pragma once
// TriggerMetrics: every figure a CdcTrigger keeps, in one struct, for an
// owner's own metrics system (vil-cdc serves them as Prometheus metrics,
// docs/DESIGN.md §5.1). CdcTrigger::metrics() copies them from counters the
// trigger keeps anyway: asking costs the stream nothing.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vil/cdc/change.hpp"
#include "vil/pgoutput/lsn.hpp"

namespace vil::cdc {

// How far the snapshots being read stand (docs/DESIGN.md §6.8-§6.10): what
// vil-cdc's progress line shows. The figures add up over the trigger's life.
struct SnapshotProgress {
  bool reading = false;         // a snapshot (initial, only, incremental) is being read now
  uint32_t tables = 0;          // the tables asked for
  uint32_t tables_done = 0;     // ...of which every row was read
  uint64_t rows = 0;            // rows read (delivered as Read changes)
  uint64_t rows_estimated = 0;  // pg_class.reltuples of those tables; 0 when unknown
};

// How the server rates the slot's hold on WAL (pg_replication_slots):
// "reserved", "extended", "unreserved" (WAL it needs will be removed at the
// next checkpoint unless it catches up) and "lost" (removed: the slot cannot
// be used again). Asked on a connection of its own every
// CdcConfig::slot_check_interval.
struct SlotStatus {
  bool known = false;                    // an answer came (and the slot exists)
  std::string wal_status;                // as the server spells it
  std::optional<int64_t> safe_wal_size;  // bytes; none without max_slot_wal_keep_size
  // Why the server invalidated the slot (PostgreSQL 17+; empty before).
  std::string invalidation_reason;
};

// With CdcConfig::failover: a standby of a multi-host conn_string (one of
// its hosts other than the server the slot check reached, in recovery), and
// whether its copy of the slot is ready, so that a failover there keeps the
// slot: synchronized from the primary (`synced`) and no longer temporary.
struct StandbySlotCopy {
  std::string standby;  // "host:port" as the connection string names it
  bool ready = false;
  std::string why_not;  // in words, when not ready
};

// Transactions the server streamed while in progress (CdcConfig::streaming):
// open now (kept until their commit or abort), delivered at their Stream
// Commit, aborted whole, and the bytes of theirs written to spill files past
// CdcConfig::streaming_memory_bytes. The figures add up over the trigger's
// life.
struct StreamedTransactionStats {
  uint64_t open = 0;
  uint64_t committed = 0;
  uint64_t aborted = 0;
  uint64_t spilled_bytes = 0;
};

struct TriggerMetrics {
  // Changes handed to the Data lane, by ChangeKind (indexed by its value).
  std::array<uint64_t, 6> changes{};
  uint64_t transactions = 0;    // transactions delivered
  uint64_t received_bytes = 0;  // CopyData bytes of XLogData frames
  pgoutput::Lsn confirmed_lsn;  // the flush LSN last sent to the server
  // The server's end of WAL: what the side connection last read
  // (pg_current_wal_lsn(), or on a standby what it received), else what the
  // walsender last reported.
  pgoutput::Lsn server_wal_lsn;
  uint64_t lag_bytes = 0;  // server_wal_lsn - confirmed_lsn, 0 while either is unknown
  // Now minus the commit time of the last delivered transaction; 0 when
  // everything the server sent was confirmed (idle and caught up).
  double lag_seconds = 0;
  int64_t last_commit_unix_ns = 0;  // the last delivered transaction's commit; 0 before one
  bool connected = false;           // streaming from the slot now
  bool paused = false;              // pause() without resume()
  uint64_t reconnects = 0;          // times the stream was lost and taken up again
  uint64_t status_updates = 0;      // standby status updates sent
  // An AsyncChangeSink's window (CdcConfig::max_in_flight): changes handed
  // over and not yet acknowledged, acknowledged so far, failures, and for
  // how long the window has been full (0 while it has room): the time the
  // trigger has not read from the server because the destination is slow.
  uint64_t sink_in_flight = 0;
  uint64_t sink_acknowledged = 0;
  uint64_t sink_failures = 0;
  double sink_backpressure_seconds = 0;
  SnapshotProgress snapshot;
  StreamedTransactionStats streamed;
  SlotStatus slot;
  // CdcConfig::failover (and slot checks on): failover_standbys is asked for.
  bool failover = false;
  // The standbys that last answered, in the connection string's order.
  std::vector<StandbySlotCopy> failover_standbys;

  [[nodiscard]] uint64_t changes_of(ChangeKind kind) const {
    return changes[static_cast<size_t>(kind)];
  }
};

}  // namespace vil::cdc
