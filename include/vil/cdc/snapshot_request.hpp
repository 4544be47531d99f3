#pragma once
// Asking running streams for an incremental snapshot (docs/DESIGN.md §6.9).
//
// The request is a transactional logical message in the WAL itself
// (pg_logical_emit_message with the prefix below), so it needs no signal
// table and no side channel, and it is ordered with the changes: every
// CdcTrigger streaming `publication` on that database reads the tables again,
// in key order and in chunks between watermarks, while its stream goes on.

#include <expected>
#include <span>
#include <string>
#include <string_view>

#include "vil/cdc/cdc_fault.hpp"
#include "vil/pgoutput/lsn.hpp"

namespace vil::cdc {

// The prefixes of vil-cdc's own logical messages. A trigger takes them and
// never delivers them as Message changes.
inline constexpr std::string_view kSnapshotRequestPrefix = "vil_cdc.snapshot";
inline constexpr std::string_view kWatermarkPrefix = "vil_cdc.watermark";

// Writes a request to read `tables` ("schema.table", or "table" when one
// schema of the publication has it) of `publication` again, and returns the
// request's LSN once it committed. Refused, with nothing written, when the
// publication does not exist (PublicationNotFound), or a table is not in it
// or has neither a primary key nor a replica identity index (SnapshotFailed,
// the message names the table); ConnectionFailed when the server cannot be
// reached.
std::expected<pgoutput::Lsn, CdcFault> request_snapshot(const std::string& conn_string,
                                                        const std::string& publication,
                                                        std::span<const std::string> tables);

}  // namespace vil::cdc
