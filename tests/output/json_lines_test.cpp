// Format::JsonLines: the exact lines of docs/DESIGN.md §4.1 for every kind of change.
#include <gtest/gtest.h>

#include "session.hpp"

namespace vil::output::testing {
namespace {

constexpr std::string_view kTx =
    R"("commit_lsn":"0/1A2B3F0","lsn":"0/1A2B3C4","seq":0,"xid":742,"commit_ts":"2026-11-24T01:05:00.123456Z")";

std::string tx(std::string_view lsn, int seq) {
  return std::string(R"("commit_lsn":"0/1A2B3F0","lsn":")") + std::string(lsn) + R"(","seq":)" +
         std::to_string(seq) + R"(,"xid":742,"commit_ts":"2026-11-24T01:05:00.123456Z")";
}

// A table of every value class the values layer knows, plus an enum and an
// array of it described by Type messages, and one column sent in binary.
Session every_type_session() {
  Session s(jsonl_options());
  s.feed(type(16400, "public", "mood"));
  s.feed(type(16401, "public", "_mood"));
  s.feed(relation(16384, "public", "every", 'd',
                  {{"id", oid::int4, true},   {"nothing", oid::text},      {"flag", oid::boolean},
                   {"small", oid::int2},      {"big", oid::int8},          {"f4", oid::float4},
                   {"f8", oid::float8},       {"f8_inf", oid::float8},     {"f8_big", oid::float8},
                   {"amount", oid::numeric},  {"note", oid::text},         {"raw", oid::bytea},
                   {"doc", oid::json},        {"docb", oid::jsonb},        {"uid", oid::uuid},
                   {"at", oid::timestamp},    {"at_tz", oid::timestamptz}, {"span", oid::interval},
                   {"ints", oid::int4_array}, {"grid", oid::text_array},   {"mood", 16400},
                   {"moods", 16401},          {"sent_binary", oid::int4}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  return s;
}

TEST(JsonLines, InsertWritesEveryValueClass) {
  Session s = every_type_session();
  const std::string out = s.encode(Wire('I')
                                       .u32(16384)
                                       .ch('N')
                                       .columns(23)
                                       .text("1")
                                       .null()
                                       .text("t")
                                       .text("-32768")
                                       .text("9223372036854775807")
                                       .text("NaN")
                                       .text("-Infinity")
                                       .text("Infinity")
                                       .text("1.5e+300")
                                       .text("12.50")
                                       .text("say \"hi\"\n\tback\\slash \x01 bad \xff end")
                                       .text("\\x0aFF")
                                       .text("{\"a\": [1, 2],\n \"b\": null}")
                                       .text("{\"k\": \"v\"}")
                                       .text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
                                       .text("2026-11-24 01:05:00.123456")
                                       .text("2026-11-24 01:05:00.123456+00")
                                       .text("1 day 02:03:04")
                                       .text("{1,NULL,3}")
                                       .text("{{a,NULL},{\"b c\",\"d\\\"e\"}}")
                                       .text("happy")
                                       .text("{happy,NULL}")
                                       .binary(std::string_view("\x00\x00\x01\xab", 4)),
                                   0x1A2B3C4);
  EXPECT_EQ(out,
            std::string(R"({"op":"insert","schema":"public","table":"every",)") + std::string(kTx) +
                R"(,"before":null,"after":{"id":1,"nothing":null,"flag":true,"small":-32768,)"
                R"("big":9223372036854775807,"f4":"NaN","f8":"-Infinity","f8_inf":"Infinity",)"
                R"("f8_big":1.5e+300,"amount":"12.50",)"
                R"("note":"say \"hi\"\n\tback\\slash \u0001 bad )"
                "\xEF\xBF\xBD"
                R"( end","raw":"\\x0aff","doc":{"a": [1, 2],  "b": null},"docb":{"k": "v"},)"
                R"("uid":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","at":"2026-11-24 01:05:00.123456",)"
                R"("at_tz":"2026-11-24 01:05:00.123456+00","span":"1 day 02:03:04",)"
                R"("ints":[1,null,3],"grid":[["a",null],["b c","d\"e"]],"mood":"happy",)"
                R"("moods":["happy",null],"sent_binary":"\\x000001ab"}})"
                "\n");
  EXPECT_EQ(s.encoder().value_errors(), 0U);
}

// orders(id int4 key, status text, total numeric) with the given identity.
Session orders_session(char identity, ChangeEncoderOptions options = jsonl_options()) {
  Session s(std::move(options));
  s.feed(relation(16390, "public", "orders", identity,
                  {{"id", oid::int4, true}, {"status", oid::text}, {"total", oid::numeric}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  return s;
}

const std::string kOrders = R"({"op":"update","schema":"public","table":"orders",)";

TEST(JsonLines, UpdateWithOldKeyHasOnlyTheKeyInBefore) {
  Session s = orders_session('d');
  const std::string out = s.encode(Wire('U')
                                       .u32(16390)
                                       .ch('K')
                                       .columns(3)
                                       .text("1")
                                       .null()
                                       .null()
                                       .ch('N')
                                       .columns(3)
                                       .text("2")
                                       .text("paid")
                                       .text("12.50"),
                                   0x1A2B3C4);
  EXPECT_EQ(out, kOrders + std::string(kTx) +
                     R"(,"before":{"id":1},"after":{"id":2,"status":"paid","total":"12.50"}})"
                     "\n");
}

TEST(JsonLines, UpdateWithOldFullRowHasItInBefore) {
  Session s = orders_session('f');
  const std::string out = s.encode(Wire('U')
                                       .u32(16390)
                                       .ch('O')
                                       .columns(3)
                                       .text("1")
                                       .text("new")
                                       .null()
                                       .ch('N')
                                       .columns(3)
                                       .text("1")
                                       .text("paid")
                                       .text("12.50"),
                                   0x1A2B3C4);
  EXPECT_EQ(out, kOrders + std::string(kTx) +
                     R"(,"before":{"id":1,"status":"new","total":null},)"
                     R"("after":{"id":1,"status":"paid","total":"12.50"}})"
                     "\n");
}

TEST(JsonLines, UpdateWithoutOldRowHasNullBefore) {
  Session s = orders_session('d');
  const std::string out = s.encode(
      Wire('U').u32(16390).ch('N').columns(3).text("1").text("paid").text("12.50"), 0x1A2B3C4);
  EXPECT_EQ(out, kOrders + std::string(kTx) +
                     R"(,"before":null,"after":{"id":1,"status":"paid","total":"12.50"}})"
                     "\n");
}

TEST(JsonLines, UnchangedToastIsListedWhenNoOldRowHasIt) {
  Session s = orders_session('d');
  const std::string out =
      s.encode(Wire('U').u32(16390).ch('N').columns(3).text("1").toast().toast(), 0x1A2B3C4);
  EXPECT_EQ(out, kOrders + std::string(kTx) +
                     R"(,"before":null,"after":{"id":1},"unchanged_toast":["status","total"]})"
                     "\n");
}

TEST(JsonLines, UnchangedToastComesFromTheOldFullRow) {
  Session s = orders_session('f');
  const std::string out = s.encode(Wire('U')
                                       .u32(16390)
                                       .ch('O')
                                       .columns(3)
                                       .text("1")
                                       .text("a long status")
                                       .null()
                                       .ch('N')
                                       .columns(3)
                                       .text("2")
                                       .toast()
                                       .toast(),
                                   0x1A2B3C4);
  // The FULL old row supplies both, its NULL included: nothing is missing.
  EXPECT_EQ(out, kOrders + std::string(kTx) +
                     R"(,"before":{"id":1,"status":"a long status","total":null},)"
                     R"("after":{"id":2,"status":"a long status","total":null}})"
                     "\n");
}

TEST(JsonLines, UnchangedToastWithAnOldKeyTupleIsStillListed) {
  Session s = orders_session('d');
  const std::string out = s.encode(Wire('U')
                                       .u32(16390)
                                       .ch('K')
                                       .columns(3)
                                       .text("1")
                                       .null()
                                       .null()
                                       .ch('N')
                                       .columns(3)
                                       .text("2")
                                       .toast()
                                       .text("3.00"),
                                   0x1A2B3C4);
  EXPECT_EQ(out, kOrders + std::string(kTx) +
                     R"(,"before":{"id":1},"after":{"id":2,"total":"3.00"},)"
                     R"("unchanged_toast":["status"]})"
                     "\n");
}

TEST(JsonLines, DeleteWithOldKey) {
  Session s = orders_session('d');
  const std::string out =
      s.encode(Wire('D').u32(16390).ch('K').columns(3).text("7").null().null(), 0x1A2B3C4);
  EXPECT_EQ(out, R"({"op":"delete","schema":"public","table":"orders",)" + std::string(kTx) +
                     R"(,"before":{"id":7},"after":null})"
                     "\n");
}

TEST(JsonLines, DeleteWithOldFullRow) {
  Session s = orders_session('f');
  const std::string out = s.encode(
      Wire('D').u32(16390).ch('O').columns(3).text("7").text("gone").text("0.10"), 0x1A2B3C4);
  EXPECT_EQ(out, R"({"op":"delete","schema":"public","table":"orders",)" + std::string(kTx) +
                     R"(,"before":{"id":7,"status":"gone","total":"0.10"},"after":null})"
                     "\n");
}

TEST(JsonLines, SeqCountsChangesWithinTheTransaction) {
  Session s = orders_session('d');
  (void)s.encode(Wire('I').u32(16390).ch('N').columns(3).text("1").null().null(), 0x1A2B300);
  const std::string out =
      s.encode(Wire('I').u32(16390).ch('N').columns(3).text("2").null().null(), 0x1A2B3C4);
  EXPECT_EQ(out, R"({"op":"insert","schema":"public","table":"orders",)" + tx("0/1A2B3C4", 1) +
                     R"(,"before":null,"after":{"id":2,"status":null,"total":null}})"
                     "\n");
}

TEST(JsonLines, TruncateOfTwoTablesWithFlags) {
  Session s(jsonl_options());
  s.feed(relation(16390, "public", "a", 'd', {{"id", oid::int4, true}}));
  s.feed(relation(16391, "sales \"eu\"", "b", 'd', {{"id", oid::int4, true}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  EXPECT_EQ(s.encode(truncate({16390, 16391}, 1), 0x1A2B3C4),
            R"({"op":"truncate","tables":["public.a","sales \"eu\".b"],"cascade":true,)"
            R"("restart_identity":false,)" +
                std::string(kTx) + "}\n");
  EXPECT_EQ(s.encode(truncate({16391}, 2), 0x1A2B3D0),
            R"({"op":"truncate","tables":["sales \"eu\".b"],"cascade":false,)"
            R"("restart_identity":true,)" +
                tx("0/1A2B3D0", 1) + "}\n");
}

TEST(JsonLines, TransactionalMessage) {
  Session s(jsonl_options());
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  EXPECT_EQ(s.encode(message(true, 0x1A2B3C4, "audit", "who: \"me\"\n"), 0),
            R"({"op":"message","prefix":"audit","content":"who: \"me\"\n","transactional":true,)" +
                std::string(kTx) + "}\n");
}

TEST(JsonLines, NonTransactionalMessageHasNoTransactionFields) {
  Session s(jsonl_options());
  EXPECT_EQ(s.encode(message(false, 0x3000028, "heartbeat", "ok"), 0),
            R"({"op":"message","prefix":"heartbeat","content":"ok","transactional":false,)"
            R"("lsn":"0/3000028","ts":"2026-11-24T01:06:00.000000Z"})"
            "\n");
}

// Bytes that are not text in the database's encoding are kept, never replaced.
TEST(JsonLines, MessageContentThatIsNotTextIsBase64) {
  Session s(jsonl_options());
  EXPECT_EQ(s.encode(message(false, 0x3000028, "bin", std::string_view("\x01ok\xfe", 4)), 0),
            R"({"op":"message","prefix":"bin","content_base64":"AW9r/g==","transactional":false,)"
            R"("lsn":"0/3000028","ts":"2026-11-24T01:06:00.000000Z"})"
            "\n");
  EXPECT_EQ(s.encode(message(false, 0x3000030, "bin", std::string_view("\xff\x00\xfe\x41", 4)), 0),
            R"({"op":"message","prefix":"bin","content_base64":"/wD+QQ==","transactional":false,)"
            R"("lsn":"0/3000030","ts":"2026-11-24T01:06:00.000000Z"})"
            "\n");
  // No PostgreSQL text holds a NUL; other control characters are text, escaped.
  EXPECT_EQ(s.encode(message(false, 0x3000038, "t", std::string_view("a\x00\xc3\xa9", 4)), 0),
            R"({"op":"message","prefix":"t","content_base64":"YQDDqQ==","transactional":false,)"
            R"("lsn":"0/3000038","ts":"2026-11-24T01:06:00.000000Z"})"
            "\n");
  EXPECT_EQ(s.encode(message(false, 0x3000040, "t", "\x01\t\xc3\xa9"), 0),
            R"({"op":"message","prefix":"t","content":"\u0001\t)"
            "\xC3\xA9"
            R"(","transactional":false,"lsn":"0/3000040","ts":"2026-11-24T01:06:00.000000Z"})"
            "\n");
}

TEST(JsonLines, MessageContentIsConvertedFromTheDatabaseEncoding) {
  ChangeEncoderOptions options = jsonl_options();
  options.database_encoding = "LATIN1";
  Session s(options);
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  // 'mèssage ü' in LATIN1.
  EXPECT_EQ(s.encode(message(true, 0x1A2B3C4, "p", "m\xe8ssage \xfc"), 0),
            R"({"op":"message","prefix":"p","content":")"
            "m\xC3\xA8ssage \xC3\xBC"
            R"(","transactional":true,)" +
                std::string(kTx) + "}\n");
  // In SQL_ASCII only ASCII is text.
  ChangeEncoderOptions ascii = jsonl_options();
  ascii.database_encoding = "SQL_ASCII";
  Session t(ascii);
  EXPECT_EQ(t.encode(message(false, 0x3000028, "p", "\xe8"), 0),
            R"({"op":"message","prefix":"p","content_base64":"6A==","transactional":false,)"
            R"("lsn":"0/3000028","ts":"2026-11-24T01:06:00.000000Z"})"
            "\n");
}

TEST(JsonLines, NewRelationMessageForTheSameIdChangesTheColumns) {
  Session s(jsonl_options());
  s.feed(relation(16390, "public", "orders", 'd', {{"id", oid::int4, true}, {"total", oid::text}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  EXPECT_EQ(s.encode(Wire('I').u32(16390).ch('N').columns(2).text("1").text("12.50"), 0x1A2B3C4),
            R"({"op":"insert","schema":"public","table":"orders",)" + std::string(kTx) +
                R"(,"before":null,"after":{"id":1,"total":"12.50"}})"
                "\n");
  // ALTER TABLE: total becomes numeric, a column is added, the table renamed.
  s.feed(relation(16390, "public", "orders_v2", 'd',
                  {{"id", oid::int4, true}, {"total", oid::numeric}, {"paid", oid::boolean}}));
  EXPECT_EQ(
      s.encode(Wire('I').u32(16390).ch('N').columns(3).text("2").text("3.5").text("f"), 0x1A2B3D0),
      R"({"op":"insert","schema":"public","table":"orders_v2",)" + tx("0/1A2B3D0", 1) +
          R"(,"before":null,"after":{"id":2,"total":"3.5","paid":false}})"
          "\n");
}

TEST(JsonLines, ColumnNamesAreEscaped) {
  Session s(jsonl_options());
  s.feed(relation(16390, "public", "odd\ttable", 'd',
                  {{"quote\"d", oid::int4, true}, {"back\\slash", oid::text}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  EXPECT_EQ(s.encode(Wire('I').u32(16390).ch('N').columns(2).text("1").text("x"), 0x1A2B3C4),
            R"({"op":"insert","schema":"public","table":"odd\ttable",)" + std::string(kTx) +
                R"(,"before":null,"after":{"quote\"d":1,"back\\slash":"x"}})"
                "\n");
}

TEST(JsonLines, InvalidValueTextIsKeptAsAStringAndCounted) {
  Session s = orders_session('d');
  EXPECT_EQ(s.encode(Wire('I').u32(16390).ch('N').columns(3).text("1x").null().null(), 0x1A2B3C4),
            R"({"op":"insert","schema":"public","table":"orders",)" + std::string(kTx) +
                R"(,"before":null,"after":{"id":"1x","status":null,"total":null}})"
                "\n");
  EXPECT_EQ(s.encoder().value_errors(), 1U);
  EXPECT_NE(s.encoder().last_value_error().find("int4"), std::string::npos)
      << s.encoder().last_value_error();
}

TEST(JsonLines, ValueErrorSummaryNamesTheFirstColumnAndTypeButNoValue) {
  Session s = orders_session('d');
  EXPECT_EQ(s.encoder().value_error_summary(), "");
  (void)s.encode(Wire('I').u32(16390).ch('N').columns(3).text("1").null().text("s3cret-12"),
                 0x1A2B3C4);
  (void)s.encode(Wire('I').u32(16390).ch('N').columns(3).text("2x").null().null(), 0x1A2B3C8);
  EXPECT_EQ(s.encoder().value_errors(), 2U);
  EXPECT_EQ(s.encoder().value_error_summary(),
            "2 values were not valid text for their type and were written as JSON strings; "
            "the first: column \"total\" of public.orders (type numeric)");
}

TEST(JsonLines, LsnsAreUpperHexWithBothHalves) {
  Session s(jsonl_options());
  s.feed(relation(16390, "public", "t", 'd', {{"id", oid::int4, true}}));
  s.feed(begin(0xABCDEF01'00000A0BULL, commit_pg_micros, 4'000'000'000U));
  const nlohmann::json line = parse_line(
      s.encode(Wire('I').u32(16390).ch('N').columns(1).text("1"), 0xABCDEF01'00000A00ULL));
  EXPECT_EQ(line["commit_lsn"], "ABCDEF01/A0B");
  EXPECT_EQ(line["lsn"], "ABCDEF01/A00");
  EXPECT_EQ(line["xid"], 4'000'000'000U);
}

}  // namespace
}  // namespace vil::output::testing
