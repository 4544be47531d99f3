// Hand-built messages of every type, field by field as the protocol
// documentation lists them, including the protocol 4 Stream Abort that
// PostgreSQL 15 cannot send.

#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include "vil/pgoutput/messages.hpp"
#include "wire.hpp"

namespace vil::pgoutput {
namespace {

using testing::Wire;

constexpr DecodeContext v1{1, false, false, true};
constexpr DecodeContext v2_stream{2, true, false, true};
constexpr DecodeContext v3{3, false, false, true};
constexpr DecodeContext v4_parallel{4, false, true, true};

// Decodes and returns the message; the bytes its views point into are kept
// for the rest of the test program.
template <typename M>
M decode_as(const Wire& wire, const DecodeContext& context) {
  static std::deque<std::vector<std::byte>> kept;
  const std::vector<std::byte>& bytes = kept.emplace_back(wire.bytes());
  auto decoded = decode_message(bytes, context);
  EXPECT_TRUE(decoded) << (decoded ? "" : decoded.error().message);
  if (!decoded) return M{};
  EXPECT_TRUE(std::holds_alternative<M>(*decoded)) << message_name(*decoded);
  return std::holds_alternative<M>(*decoded) ? std::get<M>(*decoded) : M{};
}

std::vector<std::string> texts(const TupleView& tuple) {
  std::vector<std::string> out;
  for (const ColumnValue& v : tuple) {
    switch (v.kind) {
      case ColumnKind::Null:
        out.emplace_back("<null>");
        break;
      case ColumnKind::UnchangedToast:
        out.emplace_back("<toast>");
        break;
      case ColumnKind::Text:
        out.emplace_back("t:" + std::string(v.text()));
        break;
      case ColumnKind::Binary:
        out.emplace_back("b:" + std::string(v.text()));
        break;
    }
  }
  return out;
}

TEST(Messages, Begin) {
  const auto m = decode_as<Begin>(Wire('B').u64(0x1A2B3C4).i64(757'479'845'000'000).u32(742), v1);
  EXPECT_EQ(m.final_lsn, Lsn{0x1A2B3C4});
  EXPECT_EQ(m.commit_time.micros, 757'479'845'000'000);
  EXPECT_EQ(m.xid, 742U);
}

TEST(Messages, Commit) {
  const auto m = decode_as<Commit>(Wire('C').u8(0).u64(10).u64(20).i64(30), v1);
  EXPECT_EQ(m.flags, 0);
  EXPECT_EQ(m.commit_lsn, Lsn{10});
  EXPECT_EQ(m.end_lsn, Lsn{20});
  EXPECT_EQ(m.commit_time.micros, 30);
}

TEST(Messages, Origin) {
  const auto m = decode_as<Origin>(Wire('O').u64(0xABCDEF0).str("node_a"), v1);
  EXPECT_EQ(m.commit_lsn, Lsn{0xABCDEF0});
  EXPECT_EQ(m.name, "node_a");
}

Wire relation_wire(bool streamed) {
  Wire w('R');
  if (streamed) w.u32(901);
  w.u32(16384).str("public").str("orders").ch('i').u16(3);
  w.u8(1).str("id").u32(23).i32(-1);
  w.u8(0).str("status").u32(1043).i32(24);
  w.u8(0).str("tags").u32(1009).i32(-1);
  return w;
}

TEST(Messages, Relation) {
  const auto m = decode_as<Relation>(relation_wire(false), v1);
  EXPECT_FALSE(m.xid.has_value());
  EXPECT_EQ(m.id, 16384U);
  EXPECT_EQ(m.namespace_name, "public");
  EXPECT_EQ(m.name, "orders");
  EXPECT_EQ(m.replica_identity, ReplicaIdentity::Index);
  ASSERT_EQ(m.columns.size(), 3U);
  std::vector<RelationColumn> columns(m.columns.begin(), m.columns.end());
  ASSERT_EQ(columns.size(), 3U);
  EXPECT_EQ(columns[0].name, "id");
  EXPECT_TRUE(columns[0].is_key());
  EXPECT_EQ(columns[0].type_oid, 23U);
  EXPECT_EQ(columns[0].type_modifier, -1);
  EXPECT_EQ(columns[1].name, "status");
  EXPECT_FALSE(columns[1].is_key());
  EXPECT_EQ(columns[1].type_oid, 1043U);
  EXPECT_EQ(columns[1].type_modifier, 24);
  EXPECT_EQ(columns[2].name, "tags");
  EXPECT_EQ(columns[2].type_oid, 1009U);
}

TEST(Messages, RelationInStreamCarriesXid) {
  const auto m = decode_as<Relation>(relation_wire(true), v2_stream);
  EXPECT_EQ(m.xid, std::optional<Xid>{901});
  EXPECT_EQ(m.id, 16384U);
  EXPECT_EQ(m.columns.size(), 3U);
}

TEST(Messages, RelationInPgCatalogIsSentWithEmptyNamespace) {
  const auto m = decode_as<Relation>(Wire('R').u32(1).str("").str("t").ch('d').u16(0), v1);
  EXPECT_EQ(m.namespace_name, "pg_catalog");
  EXPECT_TRUE(m.columns.empty());
  EXPECT_EQ(m.columns.begin(), m.columns.end());
}

TEST(Messages, RelationReplicaIdentities) {
  for (const char identity : {'d', 'n', 'f', 'i'}) {
    const auto m = decode_as<Relation>(Wire('R').u32(1).str("s").str("t").ch(identity).u16(0), v1);
    EXPECT_EQ(static_cast<char>(m.replica_identity), identity);
  }
}

TEST(Messages, Type) {
  const auto m = decode_as<Type>(Wire('Y').u32(16390).str("public").str("mood"), v1);
  EXPECT_FALSE(m.xid.has_value());
  EXPECT_EQ(m.id, 16390U);
  EXPECT_EQ(m.namespace_name, "public");
  EXPECT_EQ(m.name, "mood");
  const auto streamed = decode_as<Type>(Wire('Y').u32(7).u32(16390).str("").str("x"), v2_stream);
  EXPECT_EQ(streamed.xid, std::optional<Xid>{7});
  EXPECT_EQ(streamed.namespace_name, "pg_catalog");
}

TEST(Messages, InsertWithEveryColumnKind) {
  const Wire w = Wire('I')
                     .u32(16384)
                     .ch('N')
                     .columns(5)
                     .text("42")
                     .null()
                     .toast()
                     .binary(std::string_view("\x00\x01", 2))
                     .text("");
  const auto m = decode_as<Insert>(w, v1);
  EXPECT_FALSE(m.xid.has_value());
  EXPECT_EQ(m.relation_id, 16384U);
  EXPECT_EQ(texts(m.new_tuple), (std::vector<std::string>{"t:42", "<null>", "<toast>",
                                                          std::string("b:\0\x01", 4), "t:"}));
  EXPECT_EQ(m.new_tuple.size(), 5U);
  // The view points into the message.
  // The tuple as sent: everything after the 'N'.
  const auto wire = m.new_tuple.wire_bytes();
  EXPECT_TRUE(std::equal(wire.begin(), wire.end(), w.bytes().begin() + 6, w.bytes().end()));
}

TEST(Messages, InsertInStreamCarriesXid) {
  const auto m =
      decode_as<Insert>(Wire('I').u32(901).u32(16384).ch('N').columns(1).text("x"), v2_stream);
  EXPECT_EQ(m.xid, std::optional<Xid>{901});
  EXPECT_EQ(m.relation_id, 16384U);
  EXPECT_EQ(texts(m.new_tuple), std::vector<std::string>{"t:x"});
}

TEST(Messages, InsertWithNoColumns) {
  const auto m = decode_as<Insert>(Wire('I').u32(1).ch('N').columns(0), v1);
  EXPECT_TRUE(m.new_tuple.empty());
  EXPECT_EQ(m.new_tuple.begin(), m.new_tuple.end());
}

TEST(Messages, UpdateWithoutOldTuple) {
  const auto m = decode_as<Update>(Wire('U').u32(5).ch('N').columns(2).text("1").text("b"), v1);
  EXPECT_EQ(m.old_kind, OldTuple::None);
  EXPECT_TRUE(m.old_tuple.empty());
  EXPECT_EQ(texts(m.new_tuple), (std::vector<std::string>{"t:1", "t:b"}));
}

TEST(Messages, UpdateWithOldKey) {
  const auto m = decode_as<Update>(
      Wire('U').u32(5).ch('K').columns(2).text("1").null().ch('N').columns(2).text("2").text("b"),
      v1);
  EXPECT_EQ(m.old_kind, OldTuple::Key);
  EXPECT_EQ(texts(m.old_tuple), (std::vector<std::string>{"t:1", "<null>"}));
  EXPECT_EQ(texts(m.new_tuple), (std::vector<std::string>{"t:2", "t:b"}));
}

TEST(Messages, UpdateWithOldRowInStream) {
  const auto m = decode_as<Update>(Wire('U')
                                       .u32(77)
                                       .u32(5)
                                       .ch('O')
                                       .columns(2)
                                       .text("1")
                                       .text("a")
                                       .ch('N')
                                       .columns(2)
                                       .text("1")
                                       .toast(),
                                   v2_stream);
  EXPECT_EQ(m.xid, std::optional<Xid>{77});
  EXPECT_EQ(m.old_kind, OldTuple::Full);
  EXPECT_EQ(texts(m.old_tuple), (std::vector<std::string>{"t:1", "t:a"}));
  EXPECT_EQ(texts(m.new_tuple), (std::vector<std::string>{"t:1", "<toast>"}));
}

TEST(Messages, DeleteWithKeyAndWithOldRow) {
  const auto key = decode_as<Delete>(Wire('D').u32(5).ch('K').columns(2).text("1").null(), v1);
  EXPECT_EQ(key.old_kind, OldTuple::Key);
  EXPECT_EQ(texts(key.old_tuple), (std::vector<std::string>{"t:1", "<null>"}));
  const auto full =
      decode_as<Delete>(Wire('D').u32(9).u32(5).ch('O').columns(1).text("z"), v2_stream);
  EXPECT_EQ(full.xid, std::optional<Xid>{9});
  EXPECT_EQ(full.old_kind, OldTuple::Full);
  EXPECT_EQ(texts(full.old_tuple), std::vector<std::string>{"t:z"});
}

TEST(Messages, Truncate) {
  const auto m = decode_as<Truncate>(Wire('T').u32(3).u8(3).u32(16384).u32(16390).u32(1), v1);
  EXPECT_FALSE(m.xid.has_value());
  EXPECT_TRUE(m.cascade());
  EXPECT_TRUE(m.restart_identity());
  ASSERT_EQ(m.relation_ids.size(), 3U);
  EXPECT_EQ(m.relation_ids[0], 16384U);
  EXPECT_EQ(m.relation_ids[1], 16390U);
  EXPECT_EQ(m.relation_ids[2], 1U);
  EXPECT_EQ(std::vector<Oid>(m.relation_ids.begin(), m.relation_ids.end()),
            (std::vector<Oid>{16384, 16390, 1}));
  const auto streamed = decode_as<Truncate>(Wire('T').u32(44).u32(1).u8(2).u32(7), v2_stream);
  EXPECT_EQ(streamed.xid, std::optional<Xid>{44});
  EXPECT_FALSE(streamed.cascade());
  EXPECT_TRUE(streamed.restart_identity());
  const auto plain = decode_as<Truncate>(Wire('T').u32(1).u8(0).u32(7), v1);
  EXPECT_FALSE(plain.cascade());
  EXPECT_FALSE(plain.restart_identity());
}

TEST(Messages, LogicalMessage) {
  const auto m = decode_as<LogicalMessage>(
      Wire('M').u8(1).u64(0x99).str("vil.tx").u32(3).raw(std::string_view("a\0b", 3)), v1);
  EXPECT_FALSE(m.xid.has_value());
  EXPECT_TRUE(m.transactional());
  EXPECT_EQ(m.lsn, Lsn{0x99});
  EXPECT_EQ(m.prefix, "vil.tx");
  ASSERT_EQ(m.content.size(), 3U);
  EXPECT_EQ(m.content[1], std::byte{0});
  const auto streamed =
      decode_as<LogicalMessage>(Wire('M').u32(5).u8(0).u64(1).str("p").u32(0), v2_stream);
  EXPECT_EQ(streamed.xid, std::optional<Xid>{5});
  EXPECT_FALSE(streamed.transactional());
  EXPECT_TRUE(streamed.content.empty());
}

TEST(Messages, StreamStartAndStop) {
  constexpr DecodeContext v2{2, false, false, true};
  const auto first = decode_as<StreamStart>(Wire('S').u32(901).u8(1), v2);
  EXPECT_EQ(first.xid, 901U);
  EXPECT_TRUE(first.first_segment);
  const auto later = decode_as<StreamStart>(Wire('S').u32(901).u8(0), v2);
  EXPECT_FALSE(later.first_segment);
  (void)decode_as<StreamStop>(Wire('E'), v2_stream);
}

TEST(Messages, StreamCommit) {
  constexpr DecodeContext v2{2, false, false, true};
  const auto m = decode_as<StreamCommit>(Wire('c').u32(901).u8(0).u64(100).u64(120).i64(7), v2);
  EXPECT_EQ(m.xid, 901U);
  EXPECT_EQ(m.commit_lsn, Lsn{100});
  EXPECT_EQ(m.end_lsn, Lsn{120});
  EXPECT_EQ(m.commit_time.micros, 7);
}

TEST(Messages, StreamAbortBeforeProtocol4) {
  for (const std::uint32_t version : {2U, 3U}) {
    const DecodeContext context{version, false, true, true};
    const auto m = decode_as<StreamAbort>(Wire('A').u32(901).u32(902), context);
    EXPECT_EQ(m.xid, 901U);
    EXPECT_EQ(m.subxid, 902U);
    EXPECT_FALSE(m.abort_lsn.has_value());
    EXPECT_FALSE(m.abort_time.has_value());
  }
}

TEST(Messages, StreamAbortProtocol4WithoutParallelStreaming) {
  const DecodeContext context{4, false, false, true};
  const auto m = decode_as<StreamAbort>(Wire('A').u32(901).u32(901), context);
  EXPECT_EQ(m.xid, m.subxid);
  EXPECT_FALSE(m.abort_lsn.has_value());
}

TEST(Messages, StreamAbortProtocol4ParallelCarriesAbortLsnAndTime) {
  const auto m = decode_as<StreamAbort>(
      Wire('A').u32(901).u32(905).u64(0x1A2B3C4).i64(757'479'845'000'000), v4_parallel);
  EXPECT_EQ(m.xid, 901U);
  EXPECT_EQ(m.subxid, 905U);
  EXPECT_EQ(m.abort_lsn, std::optional<Lsn>{Lsn{0x1A2B3C4}});
  ASSERT_TRUE(m.abort_time.has_value());
  EXPECT_EQ(m.abort_time->unix_ns(), 1'704'164'645'000'000'000);
}

TEST(Messages, StreamAbortProtocol4ParallelNeedsTheNewFields) {
  const auto decoded = decode_message(Wire('A').u32(901).u32(905).span(), v4_parallel);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::Truncated);
  EXPECT_EQ(decoded.error().message,
            "Stream Abort: message truncated at offset 9: need 8 bytes for abort LSN, 0 left");
}

TEST(Messages, BeginPrepare) {
  const auto m =
      decode_as<BeginPrepare>(Wire('b').u64(100).u64(120).i64(5).u32(77).str("gid-1"), v3);
  EXPECT_EQ(m.prepare_lsn, Lsn{100});
  EXPECT_EQ(m.end_lsn, Lsn{120});
  EXPECT_EQ(m.prepare_time.micros, 5);
  EXPECT_EQ(m.xid, 77U);
  EXPECT_EQ(m.gid, "gid-1");
}

TEST(Messages, Prepare) {
  const auto m =
      decode_as<Prepare>(Wire('P').u8(0).u64(100).u64(120).i64(5).u32(77).str("gid-1"), v3);
  EXPECT_EQ(m.prepare_lsn, Lsn{100});
  EXPECT_EQ(m.end_lsn, Lsn{120});
  EXPECT_EQ(m.prepare_time.micros, 5);
  EXPECT_EQ(m.xid, 77U);
  EXPECT_EQ(m.gid, "gid-1");
}

TEST(Messages, CommitPrepared) {
  const auto m =
      decode_as<CommitPrepared>(Wire('K').u8(0).u64(200).u64(220).i64(9).u32(77).str("gid-1"), v3);
  EXPECT_EQ(m.commit_lsn, Lsn{200});
  EXPECT_EQ(m.end_lsn, Lsn{220});
  EXPECT_EQ(m.commit_time.micros, 9);
  EXPECT_EQ(m.xid, 77U);
  EXPECT_EQ(m.gid, "gid-1");
}

TEST(Messages, RollbackPrepared) {
  const auto m = decode_as<RollbackPrepared>(
      Wire('r').u8(0).u64(120).u64(300).i64(5).i64(11).u32(77).str("gid-2"), v3);
  EXPECT_EQ(m.prepare_end_lsn, Lsn{120});
  EXPECT_EQ(m.rollback_end_lsn, Lsn{300});
  EXPECT_EQ(m.prepare_time.micros, 5);
  EXPECT_EQ(m.rollback_time.micros, 11);
  EXPECT_EQ(m.xid, 77U);
  EXPECT_EQ(m.gid, "gid-2");
}

TEST(Messages, StreamPrepare) {
  const auto m =
      decode_as<StreamPrepare>(Wire('p').u8(0).u64(100).u64(120).i64(5).u32(77).str("g"), v3);
  EXPECT_EQ(m.prepare_lsn, Lsn{100});
  EXPECT_EQ(m.end_lsn, Lsn{120});
  EXPECT_EQ(m.xid, 77U);
  EXPECT_EQ(m.gid, "g");
}

TEST(Messages, Names) {
  EXPECT_EQ(message_name(Message{StreamAbort{}}), "Stream Abort");
  EXPECT_EQ(message_name(Message{Insert{}}), "Insert");
  EXPECT_EQ(message_name(Message{StreamPrepare{}}), "Stream Prepare");
  EXPECT_EQ(message_type_name('Y'), "Type");
  EXPECT_EQ(message_type_name('Z'), "");
}

}  // namespace
}  // namespace vil::pgoutput
