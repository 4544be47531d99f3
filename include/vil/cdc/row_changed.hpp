#pragma once
// RowChanged: the 24-byte summary of one row change on the Data lane, and
// CdcTriggerState, the trigger's counters (docs/DESIGN.md §2.3).

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace vil::cdc {

enum class RowOperation : uint8_t { Insert = 0, Update = 1, Delete = 2 };

struct RowChanged {
  uint32_t table_hash = 0;  // register_str("schema.table")
  uint8_t operation = 0;    // a RowOperation
  // The layout's padding (docs/DESIGN.md §2.3, bytes 5 to 7): a public field, named with an
  // underscore so that no one takes it for data. The name is part of the published header.
  uint8_t pad_[3] = {0, 0, 0};  // NOLINT(readability-identifier-naming): see above
  uint32_t slot_hash = 0;       // register_str(slot_name)
  uint32_t lsn_lo = 0;          // low 32 bits of the change's LSN
  uint64_t timestamp_ns = 0;    // commit time, Unix epoch
};
static_assert(sizeof(RowChanged) == 24);
static_assert(offsetof(RowChanged, table_hash) == 0);
static_assert(offsetof(RowChanged, operation) == 4);
static_assert(offsetof(RowChanged, slot_hash) == 8);
static_assert(offsetof(RowChanged, lsn_lo) == 12);
static_assert(offsetof(RowChanged, timestamp_ns) == 16);
static_assert(std::is_trivially_copyable_v<RowChanged> && std::is_standard_layout_v<RowChanged>);

struct CdcTriggerState {
  uint64_t rows_changed = 0;
  uint64_t keepalives_sent = 0;  // standby status updates sent to the server
  uint64_t stream_errors = 0;
  uint64_t last_event_ns = 0;
};
static_assert(sizeof(CdcTriggerState) == 32);
static_assert(offsetof(CdcTriggerState, rows_changed) == 0);
static_assert(offsetof(CdcTriggerState, keepalives_sent) == 8);
static_assert(offsetof(CdcTriggerState, stream_errors) == 16);
static_assert(offsetof(CdcTriggerState, last_event_ns) == 24);
static_assert(std::is_trivially_copyable_v<CdcTriggerState> &&
              std::is_standard_layout_v<CdcTriggerState>);

}  // namespace vil::cdc
