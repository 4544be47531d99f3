// What both formats share: time stamps, the relation cache, allocation, odd input.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "output/base64.hpp"
#include "output/utc_time.hpp"
#include "pgoutput/allocation_counter.hpp"
#include "session.hpp"

namespace vil::output::testing {
namespace {

std::string utc(std::int64_t unix_ns) {
  std::string s(detail::kUtcMicrosSize, '?');
  detail::format_utc_micros(unix_ns, s.data());
  return s;
}

TEST(UtcMicros, FormatsWithSixDigitsRoundingDown) {
  EXPECT_EQ(utc(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(utc(1'795'482'300'123'456'999), "2026-11-24T01:05:00.123456Z");
  EXPECT_EQ(utc(951'782'400'000'000'000), "2000-02-29T00:00:00.000000Z");
  EXPECT_EQ(utc(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(utc(-1'000), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(utc(-1'001), "1969-12-31T23:59:59.999998Z");
  EXPECT_EQ(utc(4'107'542'399'999'999'000), "2100-02-28T23:59:59.999999Z");
  EXPECT_EQ(utc(std::numeric_limits<std::int64_t>::max()), "2262-04-11T23:47:16.854775Z");
  EXPECT_EQ(utc(std::numeric_limits<std::int64_t>::min()), "1677-09-21T00:12:43.145224Z");
}

TEST(UtcMicros, CacheFollowsTheTime) {
  detail::UtcMicrosCache cache;
  EXPECT_EQ(cache.text(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(cache.text(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(cache.text(1'000), "1970-01-01T00:00:00.000001Z");
}

std::string base64(std::string_view s) {
  std::string out = ">";
  detail::append_base64(out, std::as_bytes(std::span(s.data(), s.size())));
  return out;
}

TEST(Base64, PadsLikeRfc4648) {
  EXPECT_EQ(base64(""), ">");
  EXPECT_EQ(base64("f"), ">Zg==");
  EXPECT_EQ(base64("fo"), ">Zm8=");
  EXPECT_EQ(base64("foo"), ">Zm9v");
  EXPECT_EQ(base64("foobar"), ">Zm9vYmFy");
  EXPECT_EQ(base64(std::string_view("\xff\xfe\x00", 3)), ">//4A");
}

TEST(Format, NamesRoundTrip) {
  EXPECT_EQ(parse_format("jsonl"), Format::JsonLines);
  EXPECT_EQ(parse_format("debezium"), Format::Debezium);
  EXPECT_EQ(parse_format(to_string(Format::Debezium)), Format::Debezium);
  EXPECT_EQ(parse_format(to_string(Format::JsonLines)), Format::JsonLines);
  EXPECT_FALSE(parse_format("avro"));
  // No aliases: the same two names on the command line and in the file.
  EXPECT_FALSE(parse_format("json"));
  EXPECT_FALSE(parse_format("jsonlines"));
  EXPECT_FALSE(parse_format("JSONL"));
}

// A relation description the test owns and changes in place: the same address
// with other contents, as when a freed description's memory is reused.
TEST(ChangeEncoder, DescriptionAtTheSameAddressIsDerivedAgain) {
  pgoutput::RelationSchema schema;
  schema.id = 5;
  schema.namespace_name = "public";
  schema.name = "t";
  schema.qualified_name = "public.t";
  schema.columns = {{"a", 23, -1, true}};
  const Wire insert = std::move(Wire('I').u32(5).ch('N').columns(1).text("1"));
  auto decoded = pgoutput::decode_message(insert.span(), pgoutput::DecodeContext{});
  ASSERT_TRUE(decoded);
  cdc::Change change;
  change.relation = &schema;
  change.new_tuple = std::get<pgoutput::Insert>(*decoded).new_tuple;
  Session s;
  EXPECT_EQ(s.encode(change),
            R"({"op":"insert","schema":"public","table":"t","commit_lsn":"0/0","lsn":"0/0",)"
            R"("seq":0,"xid":0,"commit_ts":"1970-01-01T00:00:00.000000Z","before":null,)"
            R"("after":{"a":1}})"
            "\n");
  schema.columns = {{"b", 25, -1, true}};
  schema.name = "u";
  EXPECT_EQ(s.encode(change),
            R"({"op":"insert","schema":"public","table":"u","commit_lsn":"0/0","lsn":"0/0",)"
            R"("seq":0,"xid":0,"commit_ts":"1970-01-01T00:00:00.000000Z","before":null,)"
            R"("after":{"b":"1"}})"
            "\n");
}

TEST(ChangeEncoder, TypeNamedAgainIsUsedForItsColumns) {
  Session s;
  s.feed(type(16400, "public", "tags"));
  s.feed(relation(16390, "public", "t", 'd', {{"v", 16400, true}}));
  s.feed(begin(0x10, commit_pg_micros, 1));
  EXPECT_EQ(parse_line(s.encode(Wire('I').u32(16390).ch('N').columns(1).text("{a,b}"),
                                0x10))["after"]["v"],
            "{a,b}");
  // After a reconnect the OID names an array type (its name starts with '_').
  s.decoder().reset();
  s.feed(type(16400, "public", "_tags"));
  s.feed(relation(16390, "public", "t", 'd', {{"v", 16400, true}}));
  EXPECT_EQ(parse_line(s.encode(Wire('I').u32(16390).ch('N').columns(1).text("{a,b}"),
                                0x20))["after"]["v"],
            nlohmann::json::array({"a", "b"}));
}

TEST(ChangeEncoder, ChangeWithoutRelationStillMakesALine) {
  for (const Format format : {Format::JsonLines, Format::Debezium}) {
    ChangeEncoderOptions options = debezium_options();
    options.format = format;
    Session s(std::move(options));
    cdc::Change change;
    change.kind = cdc::ChangeKind::Update;
    const nlohmann::json line = parse_line(s.encode(change));
    EXPECT_TRUE(line["before"].is_null());
    EXPECT_TRUE(line["after"].is_null());
  }
}

TEST(ChangeEncoder, SeveralChangesAppendLineAfterLine) {
  Session s;
  s.feed(relation(16390, "public", "t", 'd', {{"id", oid::int4, true}}));
  s.feed(begin(0x10, commit_pg_micros, 1));
  const Wire row = std::move(Wire('I').u32(16390).ch('N').columns(1).text("1"));
  auto decoded = s.decoder().decode(row.span());
  ASSERT_TRUE(decoded);
  cdc::Change change;
  change.relation = decoded->relation;
  change.new_tuple = std::get<pgoutput::Insert>(decoded->message).new_tuple;
  std::string out;
  for (int i = 0; i < 3; ++i) s.encoder().encode(change, out);
  Session::check_lines(out);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
}

// Steady state: a reused buffer, relations already seen, both formats.
TEST(ChangeEncoder, EncodingRowsDoesNotAllocate) {
  for (const Format format : {Format::JsonLines, Format::Debezium}) {
    ChangeEncoderOptions options = debezium_options();
    options.format = format;
    Session s(std::move(options));
    s.feed(relation(16390, "public", "orders", 'f',
                    {{"id", oid::int4, true},
                     {"name", oid::text},
                     {"total", oid::numeric},
                     {"at", oid::timestamptz},
                     {"ok", oid::boolean},
                     {"tags", oid::text_array},
                     {"doc", oid::jsonb}}));
    const Wire ins = std::move(Wire('I')
                                   .u32(16390)
                                   .ch('N')
                                   .columns(7)
                                   .text("1")
                                   .text("Alice \"A\" Johnson")
                                   .text("12.50")
                                   .text("2026-11-24 01:05:00.123456+00")
                                   .text("t")
                                   .text("{\"x y\",NULL}")
                                   .text("{\"a\": 1}"));
    const Wire upd = std::move(Wire('U')
                                   .u32(16390)
                                   .ch('O')
                                   .columns(7)
                                   .text("1")
                                   .text("x")
                                   .null()
                                   .null()
                                   .null()
                                   .null()
                                   .text("{}")
                                   .ch('N')
                                   .columns(7)
                                   .text("1")
                                   .toast()
                                   .text("1")
                                   .null()
                                   .null()
                                   .null()
                                   .toast());
    std::vector<cdc::Change> changes;
    for (const Wire* w : {&ins, &upd}) {
      auto decoded = s.decoder().decode(w->span());
      ASSERT_TRUE(decoded) << decoded.error().message;
      cdc::Change c;
      c.relation = decoded->relation;
      c.types = &s.decoder().types();
      c.commit_lsn = pgoutput::Lsn{0x1A2B3F0};
      c.lsn = pgoutput::Lsn{0x1A2B3C4};
      c.commit_time_ns = 1'795'482'300'123'456'000;
      if (const auto* i = std::get_if<pgoutput::Insert>(&decoded->message)) {
        c.kind = cdc::ChangeKind::Insert;
        c.new_tuple = i->new_tuple;
      } else {
        const auto& u = std::get<pgoutput::Update>(decoded->message);
        c.kind = cdc::ChangeKind::Update;
        c.old_kind = u.old_kind;
        c.old_tuple = u.old_tuple;
        c.new_tuple = u.new_tuple;
      }
      changes.push_back(c);
    }
    std::string out;
    for (const cdc::Change& c : changes) s.encoder().encode(c, out);  // warm the caches
    out.clear();
    std::size_t written = 0;
    {
      pgoutput::testing::AllocationCounter counter;
      for (int round = 0; round < 100; ++round) {
        out.clear();
        for (cdc::Change& c : changes) {
          c.ordinal = static_cast<std::uint32_t>(round);
          s.encoder().encode(c, out);
        }
        written += out.size();
      }
      EXPECT_EQ(counter.count(), 0) << to_string(format);
    }
    EXPECT_GT(written, 0U);
    Session::check_lines(out);
  }
}

}  // namespace
}  // namespace vil::output::testing
