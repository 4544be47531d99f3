#pragma once
// Everything between "connected" and "streaming": who the server is, whether
// it can do logical replication, whether the slot and publication are there
// (creating them when asked), and the START_REPLICATION command to send.

#include <cstdint>
#include <expected>
#include <string>

#include "replication/replication_connection.hpp"
#include "vil/cdc/cdc_config.hpp"
#include "vil/cdc/cdc_fault.hpp"

namespace vil::replication {

struct SessionInfo {
  std::string system_id;
  uint32_t timeline = 0;
  uint64_t server_wal_end = 0;  // IDENTIFY_SYSTEM's xlogpos
  std::string database;
  int server_version = 0;
  uint32_t protocol_version = 1;      // what START_REPLICATION asks for
  int64_t wal_sender_timeout_ms = 0;  // 0 = the server never times us out
  bool slot_created = false;
};

// The highest pgoutput protocol a server of this version speaks: 14 -> 2,
// 15 -> 3, 16 and later -> 4, older -> 1.
uint32_t highest_protocol_version(int server_version);

// Parses a PostgreSQL duration setting ("60s", "500ms", "2min", "0") to ms.
int64_t parse_duration_ms(std::string_view text);

// Runs the checks and creations of DESIGN.md §3 in order; every failure is a
// CdcFault whose message names the slot, publication or setting in words.
std::expected<SessionInfo, cdc::CdcFault> set_up_session(ReplicationConnection& conn,
                                                         const cdc::CdcConfig& config);

// START_REPLICATION SLOT "slot" LOGICAL X/Y (proto_version 'n', publication_names '"pub"', messages
// 'true')
std::string start_replication_command(ReplicationConnection& conn, const cdc::CdcConfig& config,
                                      uint32_t protocol_version, uint64_t start_lsn);

}  // namespace vil::replication
