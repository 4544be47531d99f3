#include <gtest/gtest.h>

#include "allocation_counter.hpp"
#include "vil/pgoutput/decoder.hpp"
#include "wire.hpp"

namespace vil::pgoutput {
namespace {

using testing::Wire;

Wire relation(Oid id, std::string_view name, std::initializer_list<std::string_view> columns,
              std::optional<Xid> xid = std::nullopt) {
  Wire w('R');
  if (xid) w.u32(*xid);
  w.u32(id).str("app").str(name).ch('f').u16(static_cast<std::uint16_t>(columns.size()));
  for (const std::string_view column : columns) w.u8(1).str(column).u32(25).i32(-1);
  return w;
}

Wire insert(Oid id, std::initializer_list<std::string_view> values,
            std::optional<Xid> xid = std::nullopt) {
  Wire w('I');
  if (xid) w.u32(*xid);
  w.u32(id).ch('N').columns(static_cast<std::uint16_t>(values.size()));
  for (const std::string_view v : values) w.text(v);
  return w;
}

TEST(Decoder, CachesRelationsAndReturnsThemWithChanges) {
  Decoder decoder;
  const auto described = decoder.decode(relation(10, "orders", {"id", "total"}).span());
  ASSERT_TRUE(described) << described.error().message;
  ASSERT_NE(described->relation, nullptr);
  EXPECT_EQ(described->relation->qualified_name, "app.orders");
  EXPECT_EQ(described->relation->replica_identity, ReplicaIdentity::Full);
  ASSERT_EQ(described->relation->columns.size(), 2U);
  EXPECT_EQ(described->relation->columns[1].name, "total");
  EXPECT_EQ(described->relation->columns[1].type_oid, 25U);
  EXPECT_TRUE(described->relation->columns[1].is_key);

  const auto change = decoder.decode(insert(10, {"1", "12.50"}).span());
  ASSERT_TRUE(change) << change.error().message;
  EXPECT_EQ(change->relation, decoder.relations().find(10));
  EXPECT_EQ(decoder.relations().size(), 1U);
}

TEST(Decoder, NewRelationMessageReplacesTheOldDescription) {
  Decoder decoder;
  ASSERT_TRUE(decoder.decode(relation(10, "orders", {"id", "total"}).span()));
  ASSERT_TRUE(decoder.decode(insert(10, {"1", "2"}).span()));
  const auto kept = decoder.relations().share(10);
  ASSERT_TRUE(decoder.decode(relation(10, "orders", {"id", "total", "note"}).span()));
  // The memo of the last relation must follow the replacement.
  EXPECT_FALSE(decoder.decode(insert(10, {"1", "2"}).span()));
  const auto change = decoder.decode(insert(10, {"1", "2", "x"}).span());
  ASSERT_TRUE(change) << change.error().message;
  EXPECT_EQ(change->relation->columns.size(), 3U);
  // Whoever shared the old description still has it.
  EXPECT_EQ(kept->columns.size(), 2U);
  EXPECT_EQ(decoder.relations().size(), 1U);
}

TEST(Decoder, SeveralRelations) {
  Decoder decoder;
  ASSERT_TRUE(decoder.decode(relation(10, "a", {"x"}).span()));
  ASSERT_TRUE(decoder.decode(relation(11, "b", {"x", "y"}).span()));
  auto a = decoder.decode(insert(10, {"1"}).span());
  auto b = decoder.decode(insert(11, {"1", "2"}).span());
  auto a2 = decoder.decode(insert(10, {"3"}).span());
  ASSERT_TRUE(a && b && a2);
  EXPECT_EQ(a->relation->name, "a");
  EXPECT_EQ(b->relation->name, "b");
  EXPECT_EQ(a2->relation->name, "a");
  EXPECT_FALSE(decoder.decode(insert(11, {"1"}).span()));
}

TEST(Decoder, DecodingChangesDoesNotAllocate) {
  Decoder decoder;
  ASSERT_TRUE(decoder.decode(relation(10, "orders", {"id", "total", "note"}).span()));
  ASSERT_TRUE(decoder.decode(relation(11, "lines", {"id"}).span()));
  const Wire begin = Wire('B').u64(100).i64(5).u32(7);
  const Wire ins = insert(10, {"1", "12.50", "δ"});
  const Wire upd = Wire('U')
                       .u32(10)
                       .ch('O')
                       .columns(3)
                       .text("1")
                       .null()
                       .toast()
                       .ch('N')
                       .columns(3)
                       .text("1")
                       .text("13.00")
                       .toast();
  const Wire del = Wire('D').u32(11).ch('K').columns(1).text("9");
  const Wire commit = Wire('C').u8(0).u64(100).u64(120).i64(5);
  std::size_t bytes = 0;
  testing::AllocationCounter counter;
  for (const Wire* w : {&begin, &ins, &upd, &del, &commit}) {
    const auto decoded = decoder.decode(w->span());
    if (!decoded) break;
    if (const auto* u = std::get_if<Update>(&decoded->message)) {
      for (const ColumnValue& v : u->new_tuple) bytes += v.bytes.size();
    }
  }
  EXPECT_EQ(counter.count(), 0);
  EXPECT_EQ(bytes, 6U);
  // The counter does see allocations: caching a relation makes some.
  testing::AllocationCounter relations;
  ASSERT_TRUE(decoder.decode(relation(12, "x", {"a"}).span()));
  EXPECT_GT(relations.count(), 0);
}

TEST(Decoder, CachesTypes) {
  Decoder decoder;
  ASSERT_TRUE(decoder.decode(Wire('Y').u32(16400).str("app").str("mood").span()));
  const TypeSchema* type = decoder.types().find(16400);
  ASSERT_NE(type, nullptr);
  EXPECT_EQ(type->qualified_name, "app.mood");
  EXPECT_EQ(decoder.types().find(16401), nullptr);
}

TEST(Decoder, FollowsStreamedBlocks) {
  Decoder decoder(DecoderOptions{2, false, true});
  ASSERT_TRUE(decoder.decode(relation(10, "t", {"id"}).span()));
  ASSERT_TRUE(decoder.decode(insert(10, {"1"}).span()));
  EXPECT_FALSE(decoder.in_stream());

  ASSERT_TRUE(decoder.decode(Wire('S').u32(900).u8(1).span()));
  EXPECT_TRUE(decoder.in_stream());
  EXPECT_EQ(decoder.stream_xid(), 900U);
  // Inside the block, changes carry their (sub)transaction's xid.
  ASSERT_TRUE(decoder.decode(relation(10, "t", {"id"}, 900).span()));
  const auto change = decoder.decode(insert(10, {"7"}, 901).span());
  ASSERT_TRUE(change) << change.error().message;
  EXPECT_EQ(std::get<Insert>(change->message).xid, std::optional<Xid>{901});
  // Without the xid the message is 4 bytes short of what it claims.
  EXPECT_FALSE(decoder.decode(insert(10, {"7"}).span()));
  ASSERT_TRUE(decoder.decode(Wire('E').span()));
  EXPECT_FALSE(decoder.in_stream());

  ASSERT_TRUE(decoder.decode(Wire('c').u32(900).u8(0).u64(1).u64(2).i64(3).span()));
  ASSERT_TRUE(decoder.decode(insert(10, {"8"}).span()));
}

TEST(Decoder, ErrorsLeaveStateUnchanged) {
  Decoder decoder(DecoderOptions{2, false, true});
  ASSERT_TRUE(decoder.decode(Wire('S').u32(900).u8(1).span()));
  EXPECT_FALSE(decoder.decode(Wire('S').u32(901).u8(0).span()));
  EXPECT_TRUE(decoder.in_stream());
  EXPECT_EQ(decoder.stream_xid(), 900U);
  EXPECT_FALSE(decoder.decode(Wire('E').u8(0).span()));  // trailing byte
  EXPECT_TRUE(decoder.in_stream());
  // A broken Relation message caches nothing.
  EXPECT_FALSE(decoder.decode(Wire('R').u32(900).u32(10).str("s").span()));
  EXPECT_EQ(decoder.relations().size(), 0U);
}

TEST(Decoder, ProtocolVersionGatesMessages) {
  Decoder v1;
  const auto decoded = v1.decode(Wire('S').u32(900).u8(1).span());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::UnexpectedMessage);
  EXPECT_FALSE(v1.in_stream());
}

TEST(Decoder, ParallelStreamingAbort) {
  Decoder decoder(DecoderOptions{4, true, true});
  const auto decoded = decoder.decode(Wire('A').u32(900).u32(900).u64(0x500).i64(99).span());
  ASSERT_TRUE(decoded) << decoded.error().message;
  const auto& abort = std::get<StreamAbort>(decoded->message);
  EXPECT_EQ(abort.abort_lsn, std::optional<Lsn>{Lsn{0x500}});
  EXPECT_EQ(abort.abort_time->micros, 99);
}

TEST(Decoder, ResetForgetsEverything) {
  Decoder decoder(DecoderOptions{2, false, true});
  ASSERT_TRUE(decoder.decode(relation(10, "t", {"id"}).span()));
  ASSERT_TRUE(decoder.decode(Wire('Y').u32(16400).str("app").str("mood").span()));
  ASSERT_TRUE(decoder.decode(Wire('S').u32(900).u8(1).span()));
  decoder.reset();
  EXPECT_FALSE(decoder.in_stream());
  EXPECT_EQ(decoder.relations().size(), 0U);
  EXPECT_EQ(decoder.types().size(), 0U);
  EXPECT_FALSE(decoder.decode(insert(10, {"1"}).span()));
}

TEST(Decoder, TruncateOfDescribedRelations) {
  Decoder decoder;
  ASSERT_TRUE(decoder.decode(relation(10, "a", {"x"}).span()));
  ASSERT_TRUE(decoder.decode(relation(11, "b", {"x"}).span()));
  const auto decoded = decoder.decode(Wire('T').u32(2).u8(1).u32(11).u32(10).span());
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->relation, nullptr);
  const auto failed = decoder.decode(Wire('T').u32(2).u8(1).u32(11).u32(12).span());
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().offset, 10U);
}

}  // namespace
}  // namespace vil::pgoutput
