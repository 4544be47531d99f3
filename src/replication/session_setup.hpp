#pragma once
// Everything between "connected" and "streaming": who the server is, whether
// it can do logical replication, whether the slot and publication are there
// (creating them when asked), and which protocol version to ask for. The
// START_REPLICATION command itself is replication_command.hpp's.

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "replication_connection.hpp"
#include "vil/replication/stream_error.hpp"
#include "vil/replication/stream_settings.hpp"

namespace vil::replication {

struct SessionInfo {
  std::string system_id;
  uint32_t timeline = 0;
  uint64_t server_wal_end = 0;  // IDENTIFY_SYSTEM's xlogpos
  std::string database;
  std::string server_encoding;  // the database's, e.g. "UTF8", "SQL_ASCII"
  int server_version = 0;
  std::string address;       // "host:port" libpq reached
  bool in_recovery = false;  // a standby (decoding there needs 16+)
  // An existing slot made without failover was turned to a failover slot.
  bool failover_turned_on = false;
  uint32_t protocol_version = 1;      // what START_REPLICATION asks for
  int64_t wal_sender_timeout_ms = 0;  // 0 = the server never times us out
  bool slot_created = false;
  // When the slot was created exporting its snapshot: its name
  // (SET TRANSACTION SNAPSHOT), valid while this connection is idle, and
  // the LSN from which the stream continues it.
  std::string exported_snapshot;
  uint64_t consistent_point = 0;
  // The temporary slot that exported it, when the slot asked for is
  // permanent: make_snapshot_slot_permanent() turns it into that slot.
  std::string snapshot_slot;
};

// The highest pgoutput protocol a server of this version speaks: 14 -> 2,
// 15 -> 3, 16 and later -> 4, older -> 1.
uint32_t highest_protocol_version(int server_version);

// Parses a PostgreSQL duration setting ("60s", "500ms", "2min", "0") to ms.
int64_t parse_duration_ms(std::string_view text);

// What set-up may do when the slot is missing.
struct SlotRules {
  // settings.create_slot, but only until the owner first streamed from the
  // slot: a slot made again would start at the server's current WAL and
  // silently skip what was written since.
  bool may_create = false;
  // Set once the trigger streamed from the slot: how far it received, for
  // the message that says what a missing slot cost.
  std::optional<uint64_t> streamed_up_to;
  // The server that first streamed ("host:port" and timeline): a slot
  // missing on another one (a promoted standby) is explained as such.
  std::string first_address;
  uint32_t first_timeline = 0;
};

// Runs the checks and creations of docs/DESIGN.md §6.2 step 2, items 2 to 8,
// in order, on a connection the caller made (item 1); the temporary-slot check
// before it and START_REPLICATION after it are StreamReader::run_session()'s.
// Every failure is a StreamError whose message says in words what failed: the
// slot, publication or setting, or what set-up was doing when the server
// refused or the connection broke.
std::expected<SessionInfo, StreamError> set_up_session(ReplicationConnection& conn,
                                                       const StreamSettings& settings,
                                                       const SlotRules& slot_rules);

// After the exported snapshot was read whole: copies the temporary
// `info.snapshot_slot` to the permanent slot asked for (same position), then
// drops the temporary one. Until then a crash leaves no slot behind, so the
// same settings start over with a new snapshot.
std::expected<void, StreamError> make_snapshot_slot_permanent(ReplicationConnection& conn,
                                                              const StreamSettings& settings,
                                                              const SessionInfo& info);

// The error for a slot that is gone after the owner streamed from it up to
// `received` (a temporary slot goes with the connection that made it).
StreamError slot_lost_error(const StreamSettings& settings, uint64_t received);
// The same for a slot missing on `info`'s server, which is not the one
// the owner streamed from first (`rules`): a failover to a server without a
// synchronized copy.
StreamError slot_lost_on_other_server_error(const StreamSettings& settings, const SessionInfo& info,
                                            const SlotRules& rules);

// A slot the server invalidated (SlotNotFound): `why` says how, in the
// server's words; the remedy follows.
StreamError invalidated_slot_error(const StreamSettings& settings, std::string_view why);

// A connection attempt that failed (ConnectFailed, naming the connection
// string without its password).
StreamError connect_error(const StreamSettings& settings, const ConnectError& e);
// START_REPLICATION refused: a missing publication or slot gets its own code,
// a broken connection is ConnectionLost, the rest ServerRefused.
StreamError start_error(const StreamSettings& settings, const ServerError& e);
// The server ended a running stream with `e`: ConnectionLost when a new
// session may cure it, ServerFailed (with the remedy) when it could not turn
// the database's text into UTF-8, otherwise as start_error().
StreamError stream_end_error(const StreamSettings& settings, const SessionInfo& info,
                             const ServerError& e);

}  // namespace vil::replication
