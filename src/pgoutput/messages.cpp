// pgoutput message decoding: one read function per message type, each reading
// its fields in wire order (PostgreSQL's proto.c and "Logical Replication
// Message Formats"). The type byte has been read when they start.

#include <fmt/format.h>

#include <array>
#include <type_traits>
#include <utility>
#include <variant>

#include "byte_reader.hpp"
#include "message_types.hpp"
#include "vil/pgoutput/messages.hpp"

namespace vil::pgoutput {
namespace {

using detail::ByteReader;

// Xid of the transaction, present in change messages only inside a streamed block.
std::optional<Xid> read_stream_xid(ByteReader& r, const DecodeContext& ctx) {
  if (!ctx.in_stream) return std::nullopt;
  return r.u32("xid");
}

// Namespace of a relation or type; PostgreSQL sends pg_catalog as "".
std::string_view read_namespace(ByteReader& r, const DecodeContext& ctx) {
  const std::string_view name = r.cstring("namespace", ctx.validate_utf8);
  return name.empty() && !r.failed() ? std::string_view{"pg_catalog"} : name;
}

// Begin: final (commit) LSN, commit time, xid.
Begin read_begin(ByteReader& r) {
  Begin m;
  m.final_lsn = r.lsn("final LSN");
  m.commit_time = r.timestamp("commit time");
  m.xid = r.u32("xid");
  return m;
}

// Commit: flags (0), commit LSN, end LSN, commit time.
Commit read_commit(ByteReader& r) {
  Commit m;
  const std::size_t at = r.offset();
  m.flags = r.u8("flags");
  r.check_flags(m.flags, 0, at);
  m.commit_lsn = r.lsn("commit LSN");
  m.end_lsn = r.lsn("end LSN");
  m.commit_time = r.timestamp("commit time");
  return m;
}

// Origin: the commit LSN on the origin server, origin name.
Origin read_origin(ByteReader& r, const DecodeContext& ctx) {
  Origin m;
  m.commit_lsn = r.lsn("origin commit LSN");
  m.name = r.cstring("origin name", ctx.validate_utf8);
  return m;
}

// Relation: [xid], relation id, namespace, name, replica identity, column
// count, then per column flags, name, type OID, type modifier.
Relation read_relation(ByteReader& r, const DecodeContext& ctx) {
  Relation m;
  m.xid = read_stream_xid(r, ctx);
  m.id = r.u32("relation id");
  m.namespace_name = read_namespace(r, ctx);
  m.name = r.cstring("relation name", ctx.validate_utf8);
  const std::size_t at = r.offset();
  const char identity = static_cast<char>(r.u8("replica identity"));
  if (!r.failed() && identity != 'd' && identity != 'n' && identity != 'f' && identity != 'i') {
    r.fail(DecodeErrc::InvalidValue, at,
           fmt::format("Relation: replica identity 0x{:02X} at offset {}; expected 'd', 'n', "
                       "'f' or 'i'",
                       static_cast<std::uint8_t>(identity), at));
  }
  m.replica_identity = static_cast<ReplicaIdentity>(identity);
  const std::uint16_t count = r.u16("column count");
  if (!r.failed()) m.columns = r.relation_columns(count, ctx.validate_utf8);
  return m;
}

// Type: [xid], type OID, namespace, name.
Type read_type(ByteReader& r, const DecodeContext& ctx) {
  Type m;
  m.xid = read_stream_xid(r, ctx);
  m.id = r.u32("type OID");
  m.namespace_name = read_namespace(r, ctx);
  m.name = r.cstring("type name", ctx.validate_utf8);
  return m;
}

// Reads the byte that announces a tuple and reports any other than `allowed`.
char read_tuple_tag(ByteReader& r, std::string_view allowed, std::string_view expected) {
  const std::size_t at = r.offset();
  const char tag = static_cast<char>(r.u8("tuple tag"));
  for (const char c : allowed) {
    if (c == tag) return tag;
  }
  if (!r.failed()) {
    std::string message = fmt::format("{}: tuple tag at offset {} is ", r.what(), at);
    if (tag >= 0x20 && tag < 0x7f) message += fmt::format("'{}' ", tag);
    message += fmt::format("0x{:02X}; expected {}", static_cast<std::uint8_t>(tag), expected);
    r.fail(DecodeErrc::InvalidValue, at, std::move(message));
  }
  return tag;
}

// Insert: [xid], relation id, 'N', new tuple.
Insert read_insert(ByteReader& r, const DecodeContext& ctx) {
  Insert m;
  m.xid = read_stream_xid(r, ctx);
  m.relation_id = r.u32("relation id");
  (void)read_tuple_tag(r, "N", "'N'");
  m.new_tuple = r.tuple("new tuple");
  return m;
}

// Update: [xid], relation id, optionally 'K' old key or 'O' old row, then 'N'
// new tuple.
Update read_update(ByteReader& r, const DecodeContext& ctx) {
  Update m;
  m.xid = read_stream_xid(r, ctx);
  m.relation_id = r.u32("relation id");
  char tag = read_tuple_tag(r, "KON", "'K', 'O' or 'N'");
  if (tag == 'K' || tag == 'O') {
    m.old_kind = static_cast<OldTuple>(tag);
    m.old_tuple = r.tuple(tag == 'K' ? "old key" : "old tuple");
    tag = read_tuple_tag(r, "N", "'N' after the old tuple");
  }
  m.new_tuple = r.tuple("new tuple");
  return m;
}

// Delete: [xid], relation id, 'K' old key or 'O' old row.
Delete read_delete(ByteReader& r, const DecodeContext& ctx) {
  Delete m;
  m.xid = read_stream_xid(r, ctx);
  m.relation_id = r.u32("relation id");
  const char tag = read_tuple_tag(r, "KO", "'K' or 'O'");
  m.old_kind = tag == 'O' ? OldTuple::Full : OldTuple::Key;
  m.old_tuple = r.tuple(tag == 'O' ? "old tuple" : "old key");
  return m;
}

// Truncate: [xid], relation count, options (1 cascade, 2 restart identity),
// relation ids.
Truncate read_truncate(ByteReader& r, const DecodeContext& ctx) {
  Truncate m;
  m.xid = read_stream_xid(r, ctx);
  const std::uint32_t count = r.u32("relation count");
  const std::size_t at = r.offset();
  m.options = r.u8("options");
  r.check_flags(m.options, Truncate::kCascadeBit | Truncate::kRestartIdentityBit, at);
  if (r.failed()) return m;
  if (r.remaining() / 4 < count) {
    r.fail(DecodeErrc::Truncated, r.offset(),
           fmt::format("Truncate: message truncated at offset {}: need {} bytes for {} relation "
                       "ids, {} left",
                       r.offset(), std::uint64_t{count} * 4, count, r.remaining()));
    return m;
  }
  m.relation_ids = r.relation_ids(count);
  return m;
}

// Message: [xid], flags (1 transactional), LSN, prefix, content length, content.
LogicalMessage read_logical_message(ByteReader& r, const DecodeContext& ctx) {
  LogicalMessage m;
  m.xid = read_stream_xid(r, ctx);
  const std::size_t at = r.offset();
  m.flags = r.u8("flags");
  r.check_flags(m.flags, 1, at);
  m.lsn = r.lsn("message LSN");
  m.prefix = r.cstring("prefix", ctx.validate_utf8);
  const std::uint32_t length = r.u32("content length");
  m.content = r.bytes(length, "content");
  return m;
}

// Stream Start: xid, first segment (1 or 0).
StreamStart read_stream_start(ByteReader& r) {
  StreamStart m;
  m.xid = r.u32("xid");
  const std::size_t at = r.offset();
  const std::uint8_t first = r.u8("first segment flag");
  if (!r.failed() && first > 1) {
    r.fail(DecodeErrc::InvalidValue, at,
           fmt::format("Stream Start: first segment flag at offset {} is {}; expected 0 or 1", at,
                       first));
  }
  m.first_segment = first == 1;
  return m;
}

// Stream Commit: xid, flags (0), commit LSN, end LSN, commit time.
StreamCommit read_stream_commit(ByteReader& r) {
  StreamCommit m;
  m.xid = r.u32("xid");
  const std::size_t at = r.offset();
  m.flags = r.u8("flags");
  r.check_flags(m.flags, 0, at);
  m.commit_lsn = r.lsn("commit LSN");
  m.end_lsn = r.lsn("end LSN");
  m.commit_time = r.timestamp("commit time");
  return m;
}

// Stream Abort: xid, subxid, and with protocol 4 and parallel streaming the
// abort LSN and abort time.
StreamAbort read_stream_abort(ByteReader& r, const DecodeContext& ctx) {
  StreamAbort m;
  m.xid = r.u32("xid");
  m.subxid = r.u32("subtransaction xid");
  if (ctx.protocol_version >= 4 && ctx.parallel_streaming) {
    m.abort_lsn = r.lsn("abort LSN");
    m.abort_time = r.timestamp("abort time");
  }
  return m;
}

// Begin Prepare: prepare LSN, end LSN, prepare time, xid, GID.
BeginPrepare read_begin_prepare(ByteReader& r, const DecodeContext& ctx) {
  BeginPrepare m;
  m.prepare_lsn = r.lsn("prepare LSN");
  m.end_lsn = r.lsn("end LSN");
  m.prepare_time = r.timestamp("prepare time");
  m.xid = r.u32("xid");
  m.gid = r.cstring("GID", ctx.validate_utf8);
  return m;
}

// Prepare and Stream Prepare: flags (0), prepare LSN, end LSN, prepare time,
// xid, GID.
template <typename M>
M read_prepare(ByteReader& r, const DecodeContext& ctx) {
  M m;
  const std::size_t at = r.offset();
  m.flags = r.u8("flags");
  r.check_flags(m.flags, 0, at);
  m.prepare_lsn = r.lsn("prepare LSN");
  m.end_lsn = r.lsn("end LSN");
  m.prepare_time = r.timestamp("prepare time");
  m.xid = r.u32("xid");
  m.gid = r.cstring("GID", ctx.validate_utf8);
  return m;
}

// Commit Prepared: flags (0), commit LSN, end LSN, commit time, xid, GID.
CommitPrepared read_commit_prepared(ByteReader& r, const DecodeContext& ctx) {
  CommitPrepared m;
  const std::size_t at = r.offset();
  m.flags = r.u8("flags");
  r.check_flags(m.flags, 0, at);
  m.commit_lsn = r.lsn("commit LSN");
  m.end_lsn = r.lsn("end LSN");
  m.commit_time = r.timestamp("commit time");
  m.xid = r.u32("xid");
  m.gid = r.cstring("GID", ctx.validate_utf8);
  return m;
}

// Rollback Prepared: flags (0), prepare end LSN, rollback end LSN, prepare
// time, rollback time, xid, GID.
RollbackPrepared read_rollback_prepared(ByteReader& r, const DecodeContext& ctx) {
  RollbackPrepared m;
  const std::size_t at = r.offset();
  m.flags = r.u8("flags");
  r.check_flags(m.flags, 0, at);
  m.prepare_end_lsn = r.lsn("prepare end LSN");
  m.rollback_end_lsn = r.lsn("rollback end LSN");
  m.prepare_time = r.timestamp("prepare time");
  m.rollback_time = r.timestamp("rollback time");
  m.xid = r.u32("xid");
  m.gid = r.cstring("GID", ctx.validate_utf8);
  return m;
}

// Checks that the whole message was read, and wraps it.
template <typename M>
std::expected<Message, DecodeError> finish(ByteReader& r, M&& message) {
  r.expect_end();
  if (r.failed()) [[unlikely]] {
    return std::unexpected(r.take_error());
  }
  return std::expected<Message, DecodeError>(std::in_place, std::in_place_type<std::decay_t<M>>,
                                             std::forward<M>(message));
}

static_assert(std::variant_size_v<Message> == detail::kMessageTypes.size(),
              "one row of message_types.hpp per alternative of Message");

// Reads alternative I of Message (the row I of kMessageTypes); the type byte
// has been read.
template <std::size_t I>
std::expected<Message, DecodeError> read_alternative(ByteReader& r, const DecodeContext& ctx) {
  using M = std::variant_alternative_t<I, Message>;
  if constexpr (std::is_same_v<M, Begin>) {
    return finish(r, read_begin(r));
  } else if constexpr (std::is_same_v<M, Commit>) {
    return finish(r, read_commit(r));
  } else if constexpr (std::is_same_v<M, Origin>) {
    return finish(r, read_origin(r, ctx));
  } else if constexpr (std::is_same_v<M, Relation>) {
    return finish(r, read_relation(r, ctx));
  } else if constexpr (std::is_same_v<M, Type>) {
    return finish(r, read_type(r, ctx));
  } else if constexpr (std::is_same_v<M, Insert>) {
    return finish(r, read_insert(r, ctx));
  } else if constexpr (std::is_same_v<M, Update>) {
    return finish(r, read_update(r, ctx));
  } else if constexpr (std::is_same_v<M, Delete>) {
    return finish(r, read_delete(r, ctx));
  } else if constexpr (std::is_same_v<M, Truncate>) {
    return finish(r, read_truncate(r, ctx));
  } else if constexpr (std::is_same_v<M, LogicalMessage>) {
    return finish(r, read_logical_message(r, ctx));
  } else if constexpr (std::is_same_v<M, StreamStart>) {
    return finish(r, read_stream_start(r));
  } else if constexpr (std::is_same_v<M, StreamStop>) {
    return finish(r, StreamStop{});
  } else if constexpr (std::is_same_v<M, StreamCommit>) {
    return finish(r, read_stream_commit(r));
  } else if constexpr (std::is_same_v<M, StreamAbort>) {
    return finish(r, read_stream_abort(r, ctx));
  } else if constexpr (std::is_same_v<M, BeginPrepare>) {
    return finish(r, read_begin_prepare(r, ctx));
  } else if constexpr (std::is_same_v<M, Prepare> || std::is_same_v<M, StreamPrepare>) {
    return finish(r, read_prepare<M>(r, ctx));
  } else if constexpr (std::is_same_v<M, CommitPrepared>) {
    return finish(r, read_commit_prepared(r, ctx));
  } else {
    static_assert(std::is_same_v<M, RollbackPrepared>, "a Message alternative without a reader");
    return finish(r, read_rollback_prepared(r, ctx));
  }
}

using Reader = std::expected<Message, DecodeError> (*)(ByteReader&, const DecodeContext&);

// The readers by row of kMessageTypes.
constexpr auto kReaders = []<std::size_t... I>(std::index_sequence<I...>) {
  return std::array<Reader, sizeof...(I)>{&read_alternative<I>...};
}
(std::make_index_sequence<std::variant_size_v<Message>>{});

std::expected<Message, DecodeError> unexpected_here(std::uint8_t type, std::string message,
                                                    DecodeErrc code) {
  return std::unexpected(DecodeError{code, type, 0, std::move(message)});
}

}  // namespace

std::string_view message_name(const Message& message) noexcept {
  return detail::kMessageTypes[message.index()].name;
}

std::expected<Message, DecodeError> decode_message(std::span<const std::byte> payload,
                                                   const DecodeContext& ctx) {
  if (payload.empty()) {
    return unexpected_here(0, "empty message: no type byte", DecodeErrc::Truncated);
  }
  const auto type_byte = static_cast<std::uint8_t>(payload[0]);
  const char type = static_cast<char>(type_byte);
  const std::uint8_t row = detail::kMessageTypeIndex[type_byte];
  if (row == detail::kNotAMessageType) {
    std::string message = "unknown message type ";
    if (type_byte >= 0x20 && type_byte < 0x7f) message += fmt::format("'{}' ", type);
    message += fmt::format("(0x{:02X}) at offset 0", type_byte);
    return unexpected_here(type_byte, std::move(message), DecodeErrc::UnknownMessageType);
  }
  // The type byte itself is what is out of place: offset 0.
  const detail::MessageType& rule = detail::kMessageTypes[row];
  const std::string_view name = rule.name;
  if (ctx.protocol_version < rule.min_version) {
    return unexpected_here(type_byte,
                           fmt::format("{}: message type '{}' at offset 0 needs protocol version "
                                       "{}, but version {} is in use",
                                       name, type, rule.min_version, ctx.protocol_version),
                           DecodeErrc::UnexpectedMessage);
  }
  if (ctx.in_stream && !rule.in_stream) {
    return unexpected_here(type_byte,
                           fmt::format("{}: message type '{}' at offset 0 inside a streamed block "
                                       "(after Stream Start, before Stream Stop)",
                                       name, type),
                           DecodeErrc::UnexpectedMessage);
  }
  if (!ctx.in_stream && !rule.out_of_stream) {
    return unexpected_here(type_byte,
                           fmt::format("{}: message type '{}' at offset 0 outside a streamed "
                                       "block (no Stream Start before it)",
                                       name, type),
                           DecodeErrc::UnexpectedMessage);
  }

  ByteReader r(payload, name, "message");
  (void)r.u8("type");
  return kReaders[row](r, ctx);
}

}  // namespace vil::pgoutput
