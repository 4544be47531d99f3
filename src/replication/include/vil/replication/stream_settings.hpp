#pragma once
// What the transport needs to know to hold one replication stream: where to
// connect, which slot and publication, how often to report, how to
// reconnect. The trigger layer fills it from its CdcConfig
// (cdc/stream_mapping.cpp); the transport knows nothing of that type.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vil::replication {

struct StreamSettings {
  std::string conn_string;  // libpq key/value or URI; never printed as given
  std::string application_name = "vil-cdc";
  std::string slot_name;
  std::string publication;

  bool create_slot = false;
  bool temporary_slot = false;
  // A failover slot (PostgreSQL 17+): created with FAILOVER, an existing one
  // turned to it (ALTER_REPLICATION_SLOT).
  bool failover = false;
  // When this stream creates the slot: export the slot's snapshot and wait,
  // before START_REPLICATION, until the delivery side read it
  // (StreamReader::snapshot_read()). A slot whose snapshot was not read is
  // dropped again, so that the same settings start over.
  bool export_snapshot = false;
  // With export_snapshot: the owner keeps the snapshot's progress and
  // finishes it after a crash (docs/DESIGN.md §6.10), so the permanent slot
  // is created at once and kept whatever happens.
  bool resumable_snapshot = false;
  // An earlier run's initial snapshot is being finished: the slot existing
  // is expected, not worth a notice.
  bool resuming_snapshot = false;
  bool create_publication = false;
  bool publication_all_tables = true;           // what a created publication covers...
  std::vector<std::string> publication_tables;  // ...otherwise: "table" or "schema.table"
  uint32_t protocol_version = 0;                // 0: the highest the server speaks
  bool messages = true;                         // ask pgoutput for pg_logical_emit_message messages
  // pgoutput's `streaming` option: empty (not sent: off), "on" (sent where
  // the protocol is 2 or later; below, the server spills as without it) or
  // "parallel" (protocol 4, refused below).
  std::string streaming;
  std::chrono::milliseconds status_interval{10'000};

  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
  uint32_t max_reconnect_attempts = 0;  // consecutive failures before giving up; 0: never

  // An earlier stream of the same owner got as far as streaming from the
  // slot, up to `streamed_up_to`: the slot is never created again, since a
  // new one would silently skip what was written in between.
  bool slot_streamed_before = false;
  uint64_t streamed_up_to = 0;
};

// The `options` every connection of ours sets, the user's own first: the
// fixed text forms the values layer reads (DateStyle ISO, IntervalStyle
// postgres, extra_float_digits 3; docs/DESIGN.md §4.3), so values decode the
// same whatever the server's defaults.
std::string session_options(std::string_view conn_string);

// The connection string with every secret option (password, sslpassword, ...)
// replaced by "********": the only form of it that messages may carry.
std::string redact_conn_string(std::string_view conn_string);

}  // namespace vil::replication
