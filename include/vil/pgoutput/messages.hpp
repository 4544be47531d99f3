#pragma once
// pgoutput's logical replication messages, protocol versions 1 to 4
// (PostgreSQL's "Logical Replication Message Formats"), decoded into structs
// whose strings, tuples and payloads are views into the message bytes: they
// live as long as the buffer the message came in.
//
// Timestamps are PgTimestamp (microseconds since 2000-01-01); every Xid field
// marked "streamed" is present only between Stream Start and Stream Stop
// (protocol 2 and later).

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

#include "vil/pgoutput/error.hpp"
#include "vil/pgoutput/lsn.hpp"
#include "vil/pgoutput/timestamp.hpp"
#include "vil/pgoutput/tuple.hpp"

namespace vil::pgoutput {

// 'B': a transaction's first message (not for streamed or prepared ones).
struct Begin {
  Lsn final_lsn;  // the commit record's LSN
  PgTimestamp commit_time;
  Xid xid = 0;
};

// 'C'.
struct Commit {
  std::uint8_t flags = 0;  // unused, 0
  Lsn commit_lsn;
  Lsn end_lsn;  // end of the commit record: where a consumer confirms up to
  PgTimestamp commit_time;
};

// 'O': the transaction came from another node through replication origins.
struct Origin {
  Lsn commit_lsn;  // the commit LSN on the origin server
  std::string_view name;
};

// The relation's REPLICA IDENTITY (pg_class.relreplident).
enum class ReplicaIdentity : char {
  DefaultKey = 'd',  // the primary key
  Nothing = 'n',
  Full = 'f',   // every column
  Index = 'i',  // USING INDEX
};

// 'R': describes a relation before its first change in a session (and again
// whenever it changes). Later changes name it only by id.
struct Relation {
  std::optional<Xid> xid;  // streamed
  Oid id = 0;
  std::string_view namespace_name;  // "pg_catalog" when sent empty
  std::string_view name;
  ReplicaIdentity replica_identity = ReplicaIdentity::DefaultKey;
  RelationColumns columns;
};

// 'Y': names a non built-in type a following Relation uses.
struct Type {
  std::optional<Xid> xid;  // streamed
  Oid id = 0;
  std::string_view namespace_name;  // "pg_catalog" when sent empty
  std::string_view name;
};

// 'I'.
struct Insert {
  std::optional<Xid> xid;  // streamed
  Oid relation_id = 0;
  TupleView new_tuple;
};

// Which old row an Update or Delete carries.
enum class OldTuple : char {
  None = 0,    // Update only: the key did not change and identity is not FULL
  Key = 'K',   // the replica identity columns (others null)
  Full = 'O',  // REPLICA IDENTITY FULL: the whole old row
};

// 'U'.
struct Update {
  std::optional<Xid> xid;  // streamed
  Oid relation_id = 0;
  OldTuple old_kind = OldTuple::None;
  TupleView old_tuple;  // empty when old_kind is none
  TupleView new_tuple;
};

// 'D'.
struct Delete {
  std::optional<Xid> xid;  // streamed
  Oid relation_id = 0;
  OldTuple old_kind = OldTuple::Key;
  TupleView old_tuple;
};

// 'T': one TRUNCATE statement, possibly of several relations.
struct Truncate {
  static constexpr std::uint8_t kCascadeBit = 1;
  static constexpr std::uint8_t kRestartIdentityBit = 2;

  std::optional<Xid> xid;  // streamed
  std::uint8_t options = 0;
  RelationIds relation_ids;

  [[nodiscard]] bool cascade() const noexcept { return (options & kCascadeBit) != 0; }
  [[nodiscard]] bool restart_identity() const noexcept {
    return (options & kRestartIdentityBit) != 0;
  }
};

// 'M': pg_logical_emit_message() (option messages 'true').
struct LogicalMessage {
  std::optional<Xid> xid;  // streamed
  std::uint8_t flags = 0;  // bit 0: transactional
  Lsn lsn;
  std::string_view prefix;
  std::span<const std::byte> content;

  [[nodiscard]] bool transactional() const noexcept { return (flags & 1U) != 0; }
};

// 'S' (protocol 2+): a block of an in-progress transaction's changes follows.
struct StreamStart {
  Xid xid = 0;
  bool first_segment = false;
};

// 'E' (protocol 2+): the block ends.
struct StreamStop {};

// 'c' (protocol 2+): the streamed transaction committed.
struct StreamCommit {
  Xid xid = 0;
  std::uint8_t flags = 0;  // unused, 0
  Lsn commit_lsn;
  Lsn end_lsn;
  PgTimestamp commit_time;
};

// 'A' (protocol 2+): a streamed transaction (xid == subxid) or one of its
// subtransactions aborted. Abort LSN and time are sent from protocol 4 on,
// only with streaming 'parallel'.
struct StreamAbort {
  Xid xid = 0;
  Xid subxid = 0;
  std::optional<Lsn> abort_lsn;
  std::optional<PgTimestamp> abort_time;
};

// 'b' (protocol 3+, two_phase): a prepared transaction's first message.
struct BeginPrepare {
  Lsn prepare_lsn;
  Lsn end_lsn;  // end of the prepare record
  PgTimestamp prepare_time;
  Xid xid = 0;
  std::string_view gid;
};

// 'P' (protocol 3+): PREPARE TRANSACTION.
struct Prepare {
  std::uint8_t flags = 0;  // unused, 0
  Lsn prepare_lsn;
  Lsn end_lsn;
  PgTimestamp prepare_time;
  Xid xid = 0;
  std::string_view gid;
};

// 'K' (protocol 3+): COMMIT PREPARED.
struct CommitPrepared {
  std::uint8_t flags = 0;  // unused, 0
  Lsn commit_lsn;
  Lsn end_lsn;
  PgTimestamp commit_time;
  Xid xid = 0;
  std::string_view gid;
};

// 'r' (protocol 3+): ROLLBACK PREPARED.
struct RollbackPrepared {
  std::uint8_t flags = 0;  // unused, 0
  Lsn prepare_end_lsn;
  Lsn rollback_end_lsn;
  PgTimestamp prepare_time;
  PgTimestamp rollback_time;
  Xid xid = 0;
  std::string_view gid;
};

// 'p' (protocol 3+): a streamed transaction was prepared; same fields as Prepare.
struct StreamPrepare {
  std::uint8_t flags = 0;  // unused, 0
  Lsn prepare_lsn;
  Lsn end_lsn;
  PgTimestamp prepare_time;
  Xid xid = 0;
  std::string_view gid;
};

using Message =
    std::variant<Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate,
                 LogicalMessage, StreamStart, StreamStop, StreamCommit, StreamAbort, BeginPrepare,
                 Prepare, CommitPrepared, RollbackPrepared, StreamPrepare>;

// The protocol's name of the message ("Stream Commit").
[[nodiscard]] std::string_view message_name(const Message& message) noexcept;

// What decoding one message depends on besides its bytes.
struct DecodeContext {
  std::uint32_t protocol_version = 1;  // proto_version given to START_REPLICATION
  bool in_stream = false;              // between Stream Start and Stream Stop
  bool parallel_streaming = false;     // streaming 'parallel' (protocol 4)
  bool validate_utf8 = true;           // names, prefixes and GIDs must be UTF-8
};

// Decodes one pgoutput message (an XLogData payload, or one row of
// pg_logical_slot_get_binary_changes). Checks every length against the end,
// that strings end with NUL, and that nothing is left over. Offsets in errors
// count from the message's first byte.
[[nodiscard]] std::expected<Message, DecodeError> decode_message(std::span<const std::byte> payload,
                                                                 const DecodeContext& context);

}  // namespace vil::pgoutput
