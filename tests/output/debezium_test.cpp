// Format::Debezium: the value of Debezium's PostgreSQL connector events.
#include <gtest/gtest.h>

#include "session.hpp"

namespace vil::output::testing {
namespace {

// source{} for public.<table> at lsn 0/1A2B3C4 (27440068) in transaction 742,
// committed 2026-11-24T01:05:00.123Z; the first transaction the encoder sees.
std::string source(std::string_view table, std::string_view lsn = "27440068",
                   std::string_view previous = "null") {
  return std::string(R"("source":{"version":"9.9.9","connector":"postgresql","name":"vil-cdc",)") +
         R"("ts_ms":1795482300123,"snapshot":"false","db":"shop","sequence":"[)" +
         std::string(previous) + R"(,\")" + std::string(lsn) + R"(\"]","schema":"public",)" +
         R"("table":")" + std::string(table) + R"(","txId":742,"lsn":)" + std::string(lsn) +
         R"(,"xmin":null})";
}

// The end of every row event: op, the encoder's clock (2026-11-24T01:07:00.042Z).
std::string tail(char op) {
  return std::string(R"(,"op":")") + op + R"(","ts_ms":1795482420042,"transaction":null})" + "\n";
}

Session orders_session(char identity) {
  Session s(debezium_options());
  s.feed(relation(16390, "public", "orders", identity,
                  {{"id", oid::int4, true}, {"status", oid::text}, {"total", oid::numeric}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  return s;
}

TEST(Debezium, Insert) {
  Session s = orders_session('d');
  EXPECT_EQ(s.encode(Wire('I').u32(16390).ch('N').columns(3).text("1").text("new").text("12.50"),
                     0x1A2B3C4),
            R"({"before":null,"after":{"id":1,"status":"new","total":"12.50"},)" +
                source("orders") + tail('c'));
}

TEST(Debezium, InsertValuesFollowTheJsonLinesRules) {
  // The same row through both formats: "after" must be the same JSON.
  auto insert_every_class = [](Session& s) {
    s.feed(type(16400, "public", "mood"));
    s.feed(relation(16384, "public", "every", 'd',
                    {{"id", oid::int4, true},
                     {"nothing", oid::text},
                     {"flag", oid::boolean},
                     {"f4", oid::float4},
                     {"amount", oid::numeric},
                     {"note", oid::text},
                     {"raw", oid::bytea},
                     {"doc", oid::jsonb},
                     {"at_tz", oid::timestamptz},
                     {"grid", oid::text_array},
                     {"mood", 16400}}));
    s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
    return s.encode(Wire('I')
                        .u32(16384)
                        .ch('N')
                        .columns(11)
                        .text("1")
                        .null()
                        .text("f")
                        .text("-Infinity")
                        .text("-0.001")
                        .text("tab\there \xc3\x28")
                        .text("\\x00ff")
                        .text("{\"k\": [1, {\"n\": null}]}")
                        .text("2026-11-24 01:05:00+01")
                        .text("{{a,NULL},{b,c}}")
                        .text("sad"),
                    0x1A2B3C4);
  };
  Session debezium(debezium_options());
  Session jsonl(jsonl_options());
  const std::string d = insert_every_class(debezium);
  const std::string j = insert_every_class(jsonl);
  EXPECT_EQ(parse_line(d)["after"], parse_line(j)["after"]);
  EXPECT_EQ(d, R"({"before":null,"after":{"id":1,"nothing":null,"flag":false,"f4":"-Infinity",)"
               R"("amount":"-0.001","note":"tab\there )"
               "\xEF\xBF\xBD("
               R"(","raw":"\\x00ff","doc":{"k": [1, {"n": null}]},)"
               R"("at_tz":"2026-11-24 01:05:00+01","grid":[["a",null],["b","c"]],"mood":"sad"},)" +
                   source("every") + tail('c'));
}

TEST(Debezium, UpdateWithOldKey) {
  Session s = orders_session('d');
  EXPECT_EQ(s.encode(Wire('U')
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
                     0x1A2B3C4),
            R"({"before":{"id":1,"status":null,"total":null},)"
            R"("after":{"id":2,"status":"paid","total":"12.50"},)" +
                source("orders") + tail('u'));
}

TEST(Debezium, UpdateWithOldFullRow) {
  Session s = orders_session('f');
  EXPECT_EQ(s.encode(Wire('U')
                         .u32(16390)
                         .ch('O')
                         .columns(3)
                         .text("1")
                         .text("new")
                         .text("12.50")
                         .ch('N')
                         .columns(3)
                         .text("1")
                         .text("paid")
                         .text("12.50"),
                     0x1A2B3C4),
            R"({"before":{"id":1,"status":"new","total":"12.50"},)"
            R"("after":{"id":1,"status":"paid","total":"12.50"},)" +
                source("orders") + tail('u'));
}

TEST(Debezium, UpdateWithoutOldRow) {
  Session s = orders_session('d');
  EXPECT_EQ(
      s.encode(Wire('U').u32(16390).ch('N').columns(3).text("1").text("paid").null(), 0x1A2B3C4),
      R"({"before":null,"after":{"id":1,"status":"paid","total":null},)" + source("orders") +
          tail('u'));
}

TEST(Debezium, UnchangedToastIsTheUnavailablePlaceholder) {
  Session s = orders_session('d');
  EXPECT_EQ(
      s.encode(Wire('U').u32(16390).ch('N').columns(3).text("1").toast().text("1.00"), 0x1A2B3C4),
      R"({"before":null,"after":{"id":1,"status":"__debezium_unavailable_value",)"
      R"("total":"1.00"},)" +
          source("orders") + tail('u'));
}

TEST(Debezium, UnchangedToastComesFromTheOldFullRow) {
  Session s = orders_session('f');
  EXPECT_EQ(s.encode(Wire('U')
                         .u32(16390)
                         .ch('O')
                         .columns(3)
                         .text("1")
                         .text("long text")
                         .text("1.00")
                         .ch('N')
                         .columns(3)
                         .text("1")
                         .toast()
                         .text("2.00"),
                     0x1A2B3C4),
            R"({"before":{"id":1,"status":"long text","total":"1.00"},)"
            R"("after":{"id":1,"status":"long text","total":"2.00"},)" +
                source("orders") + tail('u'));
}

// Debezium's PostgreSQL connector, REPLICA IDENTITY DEFAULT: a delete's
// before has the primary key columns' values and null for the others.
TEST(Debezium, DeleteWithOldKey) {
  Session s = orders_session('d');
  EXPECT_EQ(s.encode(Wire('D').u32(16390).ch('K').columns(3).text("7").null().null(), 0x1A2B3C4),
            R"({"before":{"id":7,"status":null,"total":null},"after":null,)" + source("orders") +
                tail('d'));
}

TEST(Debezium, DeleteWithOldFullRow) {
  Session s = orders_session('f');
  EXPECT_EQ(s.encode(Wire('D').u32(16390).ch('O').columns(3).text("7").text("x").null(), 0x1A2B3C4),
            R"({"before":{"id":7,"status":"x","total":null},"after":null,)" + source("orders") +
                tail('d'));
}

TEST(Debezium, TruncateIsOneEventPerTable) {
  Session s(debezium_options());
  s.feed(relation(16390, "public", "a", 'd', {{"id", oid::int4, true}}));
  s.feed(relation(16391, "public", "b", 'd', {{"id", oid::int4, true}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  EXPECT_EQ(s.encode(truncate({16390, 16391}, 3), 0x1A2B3C4),
            R"({"before":null,"after":null,)" + source("a") + tail('t') +
                R"({"before":null,"after":null,)" + source("b") + tail('t'));
}

TEST(Debezium, TransactionalMessage) {
  Session s(debezium_options());
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  EXPECT_EQ(
      s.encode(message(true, 0x1A2B3C4, "audit", "who: \"me\""), 0),
      R"({"op":"m","ts_ms":1795482420042,"source":{"version":"9.9.9","connector":"postgresql",)"
      R"("name":"vil-cdc","ts_ms":1795482300123,"snapshot":"false","db":"shop",)"
      R"("sequence":"[null,\"27440068\"]","schema":"","table":"","txId":742,"lsn":27440068,)"
      R"("xmin":null},"message":{"prefix":"audit","content":"d2hvOiAibWUi"}})"
      "\n");
}

TEST(Debezium, NonTransactionalMessage) {
  Session s = orders_session('d');
  (void)s.encode(Wire('I').u32(16390).ch('N').columns(3).text("1").null().null(), 0x1A2B3C4);
  s.feed(commit(0x1A2B3F0, 0x1A2B420, commit_pg_micros));
  // Sent outside the transaction: no txId, its own time, and the last commit
  // as the first element of the sequence.
  EXPECT_EQ(
      s.encode(message(false, 0x3000028, "hb", std::string_view("\x01ok\xfe", 4)), 0),
      R"({"op":"m","ts_ms":1795482420042,"source":{"version":"9.9.9","connector":"postgresql",)"
      R"("name":"vil-cdc","ts_ms":1795482360000,"snapshot":"false","db":"shop",)"
      R"("sequence":"[\"27440112\",\"50331688\"]","schema":"","table":"","txId":null,)"
      R"("lsn":50331688,"xmin":null},"message":{"prefix":"hb","content":"AW9r/g=="}})"
      "\n");
}

TEST(Debezium, SequenceNamesThePreviousTransactionsCommit) {
  Session s = orders_session('d');
  const Wire row = std::move(Wire('I').u32(16390).ch('N').columns(3).text("1").null().null());
  EXPECT_EQ(parse_line(s.encode(row, 0x1A2B3C4))["source"]["sequence"], "[null,\"27440068\"]");
  EXPECT_EQ(parse_line(s.encode(row, 0x1A2B3D0))["source"]["sequence"], "[null,\"27440080\"]");
  s.feed(commit(0x1A2B3F0, 0x1A2B420, commit_pg_micros));
  s.feed(begin(0x2000100, commit_pg_micros + 1000, 743));
  const nlohmann::json next = parse_line(s.encode(row, 0x2000000));
  EXPECT_EQ(next["source"]["sequence"], "[\"27440112\",\"33554432\"]");
  EXPECT_EQ(next["source"]["txId"], 743);
  EXPECT_EQ(next["source"]["ts_ms"], 1795482300124);
  // The sequence string is itself JSON, as Debezium consumers parse it.
  EXPECT_EQ(nlohmann::json::parse(next["source"]["sequence"].get<std::string>()),
            nlohmann::json::array({"27440112", "33554432"}));
}

TEST(Debezium, NewRelationMessageForTheSameIdChangesTheColumns) {
  Session s = orders_session('d');
  (void)s.encode(Wire('I').u32(16390).ch('N').columns(3).text("1").null().null(), 0x1A2B3C4);
  s.feed(
      relation(16390, "public", "orders", 'd', {{"id", oid::int4, true}, {"total", oid::float8}}));
  EXPECT_EQ(s.encode(Wire('I').u32(16390).ch('N').columns(2).text("2").text("0.5"), 0x1A2B3C4),
            R"({"before":null,"after":{"id":2,"total":0.5},)" + source("orders") + tail('c'));
}

TEST(Debezium, ServerNameDatabaseAndVersionAreEscaped) {
  ChangeEncoderOptions options = debezium_options();
  options.server_name = "srv\"1";
  options.database = "db\\x";
  options.version.clear();
  Session s(std::move(options));
  s.feed(relation(16390, "public", "t", 'd', {{"id", oid::int4, true}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  const nlohmann::json line =
      parse_line(s.encode(Wire('I').u32(16390).ch('N').columns(1).text("1"), 0x1A2B3C4));
  EXPECT_EQ(line["source"]["name"], "srv\"1");
  EXPECT_EQ(line["source"]["db"], "db\\x");
  EXPECT_EQ(line["source"]["version"], std::string(library_version()));
  EXPECT_FALSE(library_version().empty());
}

}  // namespace
}  // namespace vil::output::testing
