#pragma once
// When a keepalive (no transaction open) says the server has sent every
// transaction that committed at or before the owner's end LSN.

#include <cstdint>

namespace vil::replication {

// `wal_end`: what the keepalive reports (the walsender sent everything
// before it); `flushed_at_start`: the server's flushed WAL when the session
// began (IDENTIFY_SYSTEM).
//
// Past the end, always. Exactly at it, only when the end was not yet flushed
// as the session began: the keepalive may come right before a commit record
// that starts at end_lsn (a real commit LSN, which is always flushed before a
// consumer can know it), and that transaction must still be delivered. An end
// the server had not reached (pg_current_wal_lsn() taken just before) is
// reached once reported, or an idle server would never end the stream.
constexpr bool server_passed_end(uint64_t wal_end, uint64_t end_lsn, uint64_t flushed_at_start) {
  if (wal_end > end_lsn) return true;
  return wal_end == end_lsn && end_lsn >= flushed_at_start;
}

}  // namespace vil::replication
