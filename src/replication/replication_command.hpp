#pragma once
// The text of replication commands (CREATE_REPLICATION_SLOT,
// START_REPLICATION). Their grammar is not SQL's: the walsender's scanner
// (repl_scanner.l) knows '...' literals with '' for a quote and "..."
// identifiers with "" for a double quote, and no backslash escapes at all,
// so libpq's PQescapeLiteral (E'...' once a backslash appears) does not fit.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vil/replication/stream_settings.hpp"

namespace vil::replication {

// 'text' with every ' doubled; nullopt for text with a NUL, which no command
// can carry.
std::optional<std::string> quote_replication_literal(std::string_view text);
// "name" with every " doubled; nullopt for a NUL.
std::optional<std::string> quote_replication_identifier(std::string_view name);

// The oldest server with pgoutput, and the first whose pgoutput takes the
// `messages` option.
inline constexpr int kFirstPgoutputVersion = 100000;
inline constexpr int kFirstMessagesVersion = 140000;

// The first server with failover slots (FAILOVER, ALTER_REPLICATION_SLOT).
inline constexpr int kFirstFailoverVersion = 170000;
// The first server that decodes on a standby.
inline constexpr int kFirstStandbyDecodingVersion = 160000;

// CREATE_REPLICATION_SLOT "slot" [TEMPORARY] LOGICAL pgoutput NOEXPORT_SNAPSHOT, or
// EXPORT_SNAPSHOT when settings.export_snapshot asks for the snapshot
// For settings.export_snapshot with a permanent slot: the temporary slot
// snapshot_slot_name() exporting its snapshot, which set-up later copies to
// the permanent one. A permanent slot with settings.failover is made with
// the option list (SNAPSHOT '...', FAILOVER), which only 17+ takes.
std::optional<std::string> create_slot_command(const StreamSettings& config);
std::optional<std::string> create_slot_command(std::string_view name, bool temporary,
                                               bool export_snapshot, bool failover = false);
// ALTER_REPLICATION_SLOT "slot" ( FAILOVER true ); nullopt for a NUL.
std::optional<std::string> failover_on_command(std::string_view name);
// The temporary slot that exports a permanent slot's initial snapshot.
std::string snapshot_slot_name(std::string_view slot_name);

// START_REPLICATION SLOT "slot" LOGICAL X/Y (proto_version 'n',
// publication_names '"pub"'[, messages 'true']); messages only where the
// server's pgoutput knows the option. nullopt for a name with a NUL.
std::optional<std::string> start_replication_command(const StreamSettings& config,
                                                     int server_version, uint32_t protocol_version,
                                                     uint64_t start_lsn);

}  // namespace vil::replication
