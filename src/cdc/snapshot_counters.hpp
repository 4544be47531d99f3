#pragma once
// The snapshot figures of CdcTrigger::snapshot_progress(): written by the
// delivery thread alone (the snapshot reader's and the incremental
// snapshot's progress), read by any thread.

#include <atomic>
#include <cstdint>

namespace vil::cdc {

// The snapshot figures (SnapshotProgress), written by the delivery thread
// alone, read by any.
struct SnapshotCounters {
  std::atomic<bool> reading{false};
  std::atomic<uint32_t> tables{0};
  std::atomic<uint32_t> tables_done{0};
  std::atomic<uint64_t> rows{0};
  std::atomic<uint64_t> rows_estimated{0};

  void add_tables(uint32_t count, double reltuples) {
    tables.fetch_add(count, std::memory_order_relaxed);
    add_estimate(reltuples);
  }
  void add_estimate(double reltuples) {
    if (reltuples > 0) {
      rows_estimated.fetch_add(static_cast<uint64_t>(reltuples), std::memory_order_relaxed);
    }
  }
};

}  // namespace vil::cdc
