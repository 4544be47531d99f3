// Golden tests on pgoutput streams captured from PostgreSQL 15 (captures/)
// and from 16, 17 and 18 (captures/pg16/ ...), all by captures/recapture.sh.
// Every test runs on each server's capture of its scenario. Values that change
// with every capture (LSNs, xids, times, OIDs of user objects) are checked by
// how they relate; the rest is compared exactly. Servers cut streamed
// transactions into segments differently, so those run-length sequences are
// per server; the replayed rows are the same on all.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "capture_file.hpp"
#include "render.hpp"
#include "vil/pgoutput/decoder.hpp"
#include "vil/pgoutput/utf8.hpp"
#include "vil/values/convert.hpp"
#include "vil/values/type_info.hpp"

namespace vil::pgoutput {
namespace {

using testing::CapturedMessage;

struct Decoded {
  const CapturedMessage* source = nullptr;
  Message message;
  std::string line;  // rendered when decoded: the relation cache moves on
};

struct Stream {
  testing::Capture capture;
  std::vector<Decoded> messages;
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const Decoded& d : messages) out.push_back(d.line);
    return out;
  }
  template <typename M>
  std::vector<const M*> all() const {
    std::vector<const M*> out;
    for (const Decoded& d : messages) {
      if (const auto* m = std::get_if<M>(&d.message)) out.push_back(m);
    }
    return out;
  }
};

// Decodes a whole capture file (a path under captures/, without ".hex"); the
// Stream keeps the bytes the views point into.
std::unique_ptr<Stream> decode_file(const std::string& name) {
  auto stream = std::make_unique<Stream>();
  stream->capture =
      testing::read_capture(VIL_SOURCE_DIR "/tests/pgoutput/captures/" + name + ".hex");
  DecoderOptions options;
  options.protocol_version =
      static_cast<std::uint32_t>(std::stoul(stream->capture.options.at("proto_version")));
  const auto streaming = stream->capture.options.find("streaming");
  options.parallel_streaming =
      streaming != stream->capture.options.end() && streaming->second == "parallel";
  Decoder decoder(options);
  for (const CapturedMessage& m : stream->capture.messages) {
    auto decoded = decoder.decode(m.bytes);
    if (!decoded) {
      ADD_FAILURE() << name << " at " << to_string(m.lsn) << ": " << decoded.error().message;
      return stream;
    }
    std::string line = testing::render(decoder, decoded->message);
    stream->messages.push_back(Decoded{&m, std::move(decoded->message), std::move(line)});
  }
  return stream;
}

// Run-length form of the message names: "Insert x490".
std::vector<std::string> shape(const Stream& stream) {
  std::vector<std::string> out;
  std::string last;
  int count = 0;
  const auto flush = [&] {
    if (count == 1) out.push_back(last);
    if (count > 1) out.push_back(last + " x" + std::to_string(count));
  };
  for (const Decoded& d : stream.messages) {
    const std::string name(message_name(d.message));
    if (name == last) {
      ++count;
      continue;
    }
    flush();
    last = name;
    count = 1;
  }
  flush();
  return out;
}

// Invariants of every non-streamed transaction: Begin and Commit agree on the
// commit LSN and time, the end LSN lies past the commit LSN, the SQL
// interface's row LSN of the Commit is its end LSN, every row carries Begin's
// xid, and transactions come in commit order.
void check_transactions(const Stream& stream) {
  const Begin* begin = nullptr;
  Lsn last_end{};
  std::size_t transactions = 0;
  for (const Decoded& d : stream.messages) {
    if (const auto* b = std::get_if<Begin>(&d.message)) {
      ASSERT_EQ(begin, nullptr) << "nested Begin";
      begin = b;
      EXPECT_EQ(b->xid, d.source->xid);
      EXPECT_GT(b->final_lsn, last_end);
    } else if (const auto* c = std::get_if<Commit>(&d.message)) {
      ASSERT_NE(begin, nullptr) << "Commit without Begin";
      EXPECT_EQ(c->commit_lsn, begin->final_lsn);
      EXPECT_GT(c->end_lsn, c->commit_lsn);
      EXPECT_EQ(c->commit_time, begin->commit_time);
      EXPECT_EQ(d.source->lsn, c->end_lsn);
      EXPECT_EQ(d.source->xid, begin->xid);
      last_end = c->end_lsn;
      begin = nullptr;
      ++transactions;
    } else if (begin != nullptr) {
      EXPECT_EQ(d.source->xid, begin->xid) << d.line;
    }
  }
  EXPECT_EQ(begin, nullptr) << "unfinished transaction";
  EXPECT_GT(transactions, 0U);
}

// The run-length message sequence of a streamed scenario as each server
// sends it: 18 no longer streams a transaction it already knows aborted.
std::vector<std::string> streamed_shape(const std::string& name, int server) {
  using Shape = std::vector<std::string>;
  const Shape proto2{"Begin",       "Relation",      "Insert",       "Commit",       "Stream Start",
                     "Relation",    "Insert x490",   "Stream Stop",  "Stream Start", "Insert x490",
                     "Stream Stop", "Stream Abort",  "Stream Start", "Relation",     "Insert",
                     "Stream Stop", "Stream Commit", "Stream Start", "Relation",     "Insert x490",
                     "Stream Stop", "Stream Abort",  "Begin",        "Insert",       "Commit"};
  const Shape proto2_18{"Begin",         "Relation",    "Insert",      "Commit",
                        "Stream Start",  "Relation",    "Insert x490", "Stream Stop",
                        "Stream Start",  "Insert x490", "Stream Stop", "Stream Abort",
                        "Stream Start",  "Relation",    "Insert",      "Stream Stop",
                        "Stream Commit", "Begin",       "Insert",      "Commit"};
  const Shape proto3{"Begin Prepare",     "Relation",       "Insert",     "Prepare",
                     "Commit Prepared",   "Begin Prepare",  "Insert",     "Prepare",
                     "Rollback Prepared", "Stream Start",   "Relation",   "Insert x482",
                     "Stream Stop",       "Stream Start",   "Insert x18", "Stream Stop",
                     "Stream Prepare",    "Commit Prepared"};
  const Shape proto4{"Begin",       "Relation",     "Insert",        "Commit",       "Stream Start",
                     "Relation",    "Insert x490",  "Stream Stop",   "Stream Start", "Insert x490",
                     "Stream Stop", "Stream Abort", "Stream Commit", "Stream Start", "Relation",
                     "Insert x490", "Stream Stop",  "Stream Abort",  "Begin",        "Insert",
                     "Commit"};
  const Shape proto4_18{"Begin",         "Relation",    "Insert",      "Commit",
                        "Stream Start",  "Relation",    "Insert x490", "Stream Stop",
                        "Stream Start",  "Insert x490", "Stream Stop", "Stream Abort",
                        "Stream Commit", "Begin",       "Insert",      "Commit"};
  if (name == "proto2_stream") return server >= 18 ? proto2_18 : proto2;
  if (name == "proto3_two_phase") return proto3;
  if (name == "proto4_parallel") return server >= 18 ? proto4_18 : proto4;
  ADD_FAILURE() << "no shape for " << name;
  return {};
}

// The tests run once per server whose captures are here: the parameter is
// its major version.
class Golden : public ::testing::TestWithParam<int> {
 protected:
  static std::string folder() {
    return GetParam() == 15 ? std::string() : fmt::format("pg{}/", GetParam());
  }
  static std::unique_ptr<Stream> decode(const std::string& name) {
    return decode_file(folder() + name);
  }
};

INSTANTIATE_TEST_SUITE_P(Servers, Golden, ::testing::Values(15, 16, 17, 18),
                         [](const ::testing::TestParamInfo<int>& server) {
                           return fmt::format("PostgreSQL{}", server.param);
                         });

TEST_P(Golden, Protocol1Basic) {
  const auto stream = decode("proto1_basic");
  EXPECT_EQ(stream->lines(),
            (std::vector<std::string>{
                "Begin",
                "Relation public.basic identity=d columns=id:23:key,name:25,qty:23",
                "Insert public.basic N('1', 'alpha', '10')",
                "Insert public.basic N('2', 'beta', null)",
                "Commit flags=0",
                "Begin",
                "Update public.basic N('1', 'alpha', '11')",
                "Commit flags=0",
                "Begin",
                "Update public.basic K('2', null, null) N('3', 'beta', null)",
                "Commit flags=0",
                "Begin",
                "Delete public.basic K('1', null, null)",
                "Commit flags=0",
                "Begin",
                "Insert public.basic N('4', 'gamma', '4')",
                "Insert public.basic N('5', 'δέλτα €', '5')",
                "Commit flags=0",
            }));
  check_transactions(*stream);
  // The text values are views into the captured bytes, UTF-8 as sent.
  const auto inserts = stream->all<Insert>();
  ASSERT_EQ(inserts.size(), 4U);
  auto column = inserts[3]->new_tuple.begin();
  ++column;
  EXPECT_EQ(column->text(), "δέλτα €");
  EXPECT_TRUE(is_valid_utf8(column->bytes));
}

TEST_P(Golden, ReplicaIdentities) {
  const auto stream = decode("replica_identity");
  EXPECT_EQ(stream->lines(),
            (std::vector<std::string>{
                "Begin",
                "Relation public.ri_default identity=d columns=id:23:key,v:25",
                "Insert public.ri_default N('1', 'a')",
                "Commit flags=0",
                "Begin",
                "Relation public.ri_full identity=f columns=id:23:key,v:25:key",
                "Insert public.ri_full N('1', 'a')",
                "Commit flags=0",
                "Begin",
                "Relation public.ri_index identity=i columns=id:23,code:25:key,v:25",
                "Insert public.ri_index N('1', 'k1', 'a')",
                "Commit flags=0",
                "Begin",
                "Relation public.ri_nothing identity=n columns=id:23,v:25",
                "Insert public.ri_nothing N('1', 'a')",
                "Commit flags=0",
                "Begin",
                "Update public.ri_default N('1', 'b')",
                "Commit flags=0",
                "Begin",
                "Update public.ri_full O('1', 'a') N('1', 'b')",
                "Commit flags=0",
                "Begin",
                "Update public.ri_index N('1', 'k1', 'b')",
                "Commit flags=0",
                "Begin",
                "Update public.ri_index K(null, 'k1', null) N('1', 'k2', 'b')",
                "Commit flags=0",
                "Begin",
                "Delete public.ri_default K('1', null)",
                "Commit flags=0",
                "Begin",
                "Delete public.ri_full O('1', 'b')",
                "Commit flags=0",
                "Begin",
                "Delete public.ri_index K(null, 'k2', null)",
                "Commit flags=0",
            }));
  check_transactions(*stream);
}

TEST_P(Golden, LogicalMessagesAndOrigin) {
  const auto stream = decode("messages");
  EXPECT_EQ(stream->lines(),
            (std::vector<std::string>{
                "Begin",
                "Message transactional=true prefix=vil.tx content='transactional hello'",
                "Commit flags=0",
                "Message transactional=false prefix=vil.nontx content='\\x00\\x01\\xFE\\x7F'",
                "Begin",
                "Relation public.msg_t identity=d columns=id:23:key",
                "Insert public.msg_t N('1')",
                "Message transactional=true prefix=vil.tx content='inside'",
                "Commit flags=0",
                "Begin",
                "Origin vil_origin 0/ABCDEF0",
                "Insert public.msg_t N('2')",
                "Commit flags=0",
            }));
  // A message's LSN is the row's; a non-transactional one comes outside any
  // transaction, with xid 0.
  for (const Decoded& d : stream->messages) {
    if (const auto* m = std::get_if<LogicalMessage>(&d.message)) {
      EXPECT_EQ(m->lsn, d.source->lsn);
      if (!m->transactional()) {
        EXPECT_EQ(d.source->xid, 0U);
      }
    }
  }
  const auto origins = stream->all<Origin>();
  ASSERT_EQ(origins.size(), 1U);
  EXPECT_EQ(origins[0]->commit_lsn, Lsn{0xABCDEF0});
  // pg_replication_origin_xact_setup() set the commit time: 2024-01-02 03:04:05 UTC.
  const auto commits = stream->all<Commit>();
  ASSERT_EQ(commits.size(), 3U);
  EXPECT_EQ(commits[2]->commit_time.unix_ns(), 1'704'164'645'000'000'000);
  // Transactions other than the one with the non-transactional message in between.
  std::vector<Decoded> transactional;
  for (const Decoded& d : stream->messages) {
    const auto* m = std::get_if<LogicalMessage>(&d.message);
    if (m == nullptr || m->transactional()) transactional.push_back(d);
  }
  Stream without{{}, transactional};
  check_transactions(without);
}

TEST_P(Golden, Truncate) {
  const auto stream = decode("truncate");
  EXPECT_EQ(stream->lines(),
            (std::vector<std::string>{
                "Begin",
                "Relation public.tr_parent identity=d columns=id:23:key",
                "Insert public.tr_parent N('1')",
                "Commit flags=0",
                "Begin",
                "Relation public.tr_child identity=d columns=id:23:key,parent:23",
                "Insert public.tr_child N('1', '1')",
                "Commit flags=0",
                "Begin",
                "Relation public.tr_other identity=d columns=id:23:key",
                "Insert public.tr_other N('1')",
                "Commit flags=0",
                "Begin",
                "Relation public.tr_child identity=d columns=id:23:key,parent:23",
                "Relation public.tr_parent identity=d columns=id:23:key",
                "Truncate cascade=false restart_identity=false public.tr_child public.tr_parent",
                "Commit flags=0",
                "Begin",
                "Relation public.tr_parent identity=d columns=id:23:key",
                "Relation public.tr_child identity=d columns=id:23:key,parent:23",
                "Truncate cascade=true restart_identity=false public.tr_parent public.tr_child",
                "Commit flags=0",
                "Begin",
                "Relation public.tr_other identity=d columns=id:23:key",
                "Truncate cascade=false restart_identity=true public.tr_other",
                "Commit flags=0",
                "Begin",
                "Relation public.tr_parent identity=d columns=id:23:key",
                "Relation public.tr_other identity=d columns=id:23:key",
                "Relation public.tr_child identity=d columns=id:23:key,parent:23",
                "Truncate cascade=true restart_identity=true public.tr_parent public.tr_other "
                "public.tr_child",
                "Commit flags=0",
            }));
  check_transactions(*stream);
}

TEST_P(Golden, ManyTypesAsText) {
  const auto stream = decode("types");
  EXPECT_EQ(
      stream->lines(),
      (std::vector<std::string>{
          "Begin",
          "Type public.mood",
          "Relation public.types_t identity=d "
          "columns=id:23:key,c_bool:16,c_int2:21,c_int4:23,c_int8:20,c_oid:26,c_float4:700,c_"
          "float8:701,c_numeric:1700(786439),c_numeric_any:1700,c_text:25,c_varchar:1043(24),c_"
          "bpchar:1042(9),c_name:19,c_bytea:17,c_uuid:2950,c_json:114,c_jsonb:3802,c_date:1082,c_"
          "time:1083,c_timetz:1266,c_timestamp:1114,c_timestamptz:1184,c_interval:1186,c_int_array:"
          "1007,c_text_array:1009,c_2d:1007,c_mood:public.mood,c_big:25,c_bool_array:1000,c_"
          "numeric_array:1231,c_float8_array:1022,c_bytea_array:1001,c_uuid_array:2951,c_jsonb_"
          "array:3807,c_date_array:1182,c_timestamptz_array:1185,c_interval_array:1187,c_text_2d:"
          "1009",
          "Insert public.types_t N('1', 't', '-32768', '2147483647', '-9223372036854775808', "
          "'4294967295', '1.5', '-2.25e-300', '12345.678', '0.000000000000000000001', 'tab\\x09and "
          "\"quote\" and \\x5C and\\x0Anewline', 'varchar', 'ab   ', 'a_name', '\\x5Cx00ff10', "
          "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2.5, null]}', '{\"b\": {\"c\": "
          "true}}', '2024-02-29', '23:59:59.999999', '12:00:00+05:30', '2024-01-01 "
          "00:00:00.000001', '1999-12-31 23:59:59.5+00', '1 year 2 mons 3 days 04:05:06.789', "
          "'{1,NULL,3}', '{\"x y\",NULL,\"\",\"q\\x5C\"\"}', '{{1,2},{3,NULL}}', 'happy', "
          "'01234567890123456789012345678901234567890123456789012345678901234567890123456789...' "
          "(3000 bytes), '{t,f,NULL}', '{1.50,-0.001,NaN,Infinity,-Infinity,NULL}', "
          "'{1.5,-0,NaN,Infinity,-Infinity,1e-300,NULL}', "
          "'{\"\\x5C\\x5Cx00ff\",\"\\x5C\\x5Cx\",NULL}', "
          "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}', "
          "'{\"{\\x5C\"a\\x5C\": 1}\",\"[1, "
          "\\x5C\"x\\x5C\"]\",\"null\",\"\\x5C\"s\\x5C\"\",NULL}', "
          "'{2024-02-29,infinity,\"0044-03-15 BC\",NULL}', "
          "'{\"1999-12-31 23:59:59.5+00\",-infinity,NULL}', "
          "'{\"1 year 2 mons 3 days 04:05:06.789\",-00:00:01,NULL}', "
          "'{{\"a b\",NULL,\"NULL\",\"\"},{\"q\\x5C\"u\",\"b\\x5C\\x5Cs\",\"c,{d}\",é}}')",
          "Commit flags=0",
          "Begin",
          "Insert public.types_t N('2', 'f', '0', '0', '0', '0', 'NaN', 'Infinity', 'NaN', "
          "'Infinity', '', '', '     ', '', '\\x5Cx', '00000000-0000-0000-0000-000000000000', "
          "'null', '[]', '0044-03-15 BC', '00:00:00', '00:00:00-12', 'infinity', '-infinity', '-1 "
          "days', '{}', '{}', '{{NULL}}', 'sad', 'short', '{NULL}', '{}', '{}', '{}', '{}', '{}', "
          "'{}', '{}', '{}', '{{x},{y}}')",
          "Commit flags=0",
          "Begin",
          "Insert public.types_t N('3', null, null, null, null, null, '-Infinity', '-Infinity', "
          "null, null, null, null, null, null, null, null, null, null, null, null, null, null, "
          "null, null, null, null, null, null, null, null, null, null, null, null, null, null, "
          "null, null, null)",
          "Commit flags=0",
          "Begin",
          "Update public.types_t N('1', 't', '-32768', '7', '-9223372036854775808', '4294967295', "
          "'1.5', '-2.25e-300', '12345.678', '0.000000000000000000001', 'tab\\x09and \"quote\" and "
          "\\x5C and\\x0Anewline', 'varchar', 'ab   ', 'a_name', '\\x5Cx00ff10', "
          "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2.5, null]}', '{\"b\": {\"c\": "
          "true}}', '2024-02-29', '23:59:59.999999', '12:00:00+05:30', '2024-01-01 "
          "00:00:00.000001', '1999-12-31 23:59:59.5+00', '1 year 2 mons 3 days 04:05:06.789', "
          "'{1,NULL,3}', '{\"x y\",NULL,\"\",\"q\\x5C\"\"}', '{{1,2},{3,NULL}}', 'happy', toast, "
          "'{t,f,NULL}', '{1.50,-0.001,NaN,Infinity,-Infinity,NULL}', "
          "'{1.5,-0,NaN,Infinity,-Infinity,1e-300,NULL}', "
          "'{\"\\x5C\\x5Cx00ff\",\"\\x5C\\x5Cx\",NULL}', "
          "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}', "
          "'{\"{\\x5C\"a\\x5C\": 1}\",\"[1, "
          "\\x5C\"x\\x5C\"]\",\"null\",\"\\x5C\"s\\x5C\"\",NULL}', "
          "'{2024-02-29,infinity,\"0044-03-15 BC\",NULL}', "
          "'{\"1999-12-31 23:59:59.5+00\",-infinity,NULL}', "
          "'{\"1 year 2 mons 3 days 04:05:06.789\",-00:00:01,NULL}', "
          "'{{\"a b\",NULL,\"NULL\",\"\"},{\"q\\x5C\"u\",\"b\\x5C\\x5Cs\",\"c,{d}\",é}}')",
          "Commit flags=0",
          "Begin",
          "Delete public.types_t K('3', null, null, null, null, null, null, null, null, null, "
          "null, null, null, null, null, null, null, null, null, null, null, null, null, null, "
          "null, null, null, null, null, null, null, null, null, null, null, null, null, null, "
          "null)",
          "Commit flags=0",
      }));
  check_transactions(*stream);
  // The enum column's type was named by a Type message before the Relation.
  const auto types = stream->all<Type>();
  const auto relations = stream->all<Relation>();
  ASSERT_EQ(types.size(), 1U);
  ASSERT_EQ(relations.size(), 1U);
  std::vector<RelationColumn> columns(relations[0]->columns.begin(), relations[0]->columns.end());
  ASSERT_EQ(columns.size(), 39U);
  EXPECT_EQ(columns[27].name, "c_mood");
  EXPECT_EQ(columns[27].type_oid, types[0]->id);
  EXPECT_GE(types[0]->id, 16384U);
  // The out-of-line value arrives whole in the Insert, and as 'u' in the Update
  // that left it alone.
  const auto inserts = stream->all<Insert>();
  ASSERT_EQ(inserts.size(), 3U);
  std::vector<ColumnValue> first(inserts[0]->new_tuple.begin(), inserts[0]->new_tuple.end());
  std::string expected_big;
  for (int i = 0; i < 300; ++i) expected_big += "0123456789";
  EXPECT_EQ(first[28].text(), expected_big);
  const auto updates = stream->all<Update>();
  ASSERT_EQ(updates.size(), 1U);
  std::vector<ColumnValue> updated(updates[0]->new_tuple.begin(), updates[0]->new_tuple.end());
  EXPECT_TRUE(updated[28].is_unchanged_toast());
  EXPECT_TRUE(updated[28].bytes.empty());
  EXPECT_EQ(updated[10].text(), "tab\tand \"quote\" and \\ and\nnewline");
  EXPECT_EQ(updated[25].text(), R"({"x y",NULL,"","q\""})");
}

// A typed value, spelled out: what convert() made of the text, not the text.
std::string typed(const values::Value& value) {
  using namespace values;
  const auto text = [](std::string_view t) {
    std::string out = "'";
    append_printable(out, t.substr(0, 40));
    if (t.size() > 40) return out + fmt::format("...' ({} bytes)", t.size());
    return out + "'";
  };
  const auto infinite = [](auto v, auto plus, auto minus) -> std::string {
    if (v == plus) return "infinity";
    if (v == minus) return "-infinity";
    return std::to_string(v);
  };
  return std::visit(
      [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Null>) {
          return "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return fmt::format("int {}", v);
        } else if constexpr (std::is_same_v<T, double>) {
          return fmt::format("float {}", v);
        } else if constexpr (std::is_same_v<T, Numeric>) {
          return fmt::format("numeric {}", v.text);
        } else if constexpr (std::is_same_v<T, Text>) {
          return "text " + text(v.text);
        } else if constexpr (std::is_same_v<T, Bytea>) {
          std::string hex;
          for (const std::byte b : v.bytes())
            hex += fmt::format("{:02x}", static_cast<unsigned>(b));
          return fmt::format("bytea {}:{}", v.size(), hex);
        } else if constexpr (std::is_same_v<T, Uuid>) {
          return "uuid " + v.to_string();
        } else if constexpr (std::is_same_v<T, Json>) {
          return "json " + text(v.text);
        } else if constexpr (std::is_same_v<T, Date>) {
          return "date " + infinite(v.days, Date::kInfinity, Date::kMinusInfinity);
        } else if constexpr (std::is_same_v<T, Time>) {
          return fmt::format("time {}us", v.micros);
        } else if constexpr (std::is_same_v<T, TimeTz>) {
          return fmt::format("timetz {}us {:+}s", v.micros, v.offset_seconds);
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          return "timestamp " + infinite(v.micros, Timestamp::kInfinity, Timestamp::kMinusInfinity);
        } else if constexpr (std::is_same_v<T, TimestampTz>) {
          return "timestamptz " +
                 infinite(v.micros, TimestampTz::kInfinity, TimestampTz::kMinusInfinity);
        } else if constexpr (std::is_same_v<T, Interval>) {
          return fmt::format("interval {}mon {}d {}us", v.months, v.days, v.micros);
        } else if constexpr (std::is_same_v<T, Array>) {
          std::string out = fmt::format("array of {}", v.element_oid());
          for (const ArrayDimension& d : v.dimensions()) {
            out += d.lower_bound == 1 ? fmt::format("[{}]", d.length)
                                      : fmt::format("[{}:{}]", d.lower_bound, d.length);
          }
          out += " {";
          for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + typed(v[i]);
          return out + "}";
        } else {
          static_assert(std::is_same_v<T, Unknown>);
          return "unknown " + text(v.text);
        }
      },
      static_cast<const ValueVariant&>(value));
}

// Every column of a tuple as a consumer types it: text values through
// values::convert with the relation's column type (and the types the stream's
// Type messages named), null and unchanged TOAST as they are.
std::vector<std::string> typed_row(const TupleView& tuple,
                                   const std::vector<RelationColumn>& columns,
                                   const values::TypeCatalog& types) {
  std::vector<std::string> out;
  std::size_t i = 0;
  for (const ColumnValue& value : tuple) {
    const values::TypeInfo type = types.find(columns[i++].type_oid);
    if (value.is_null()) {
      out.emplace_back("null");
    } else if (value.is_unchanged_toast()) {
      out.emplace_back("toast");
    } else {
      const auto converted = values::convert(type, value.text());
      out.push_back(converted ? typed(*converted) : "error: " + converted.error().message);
    }
  }
  return out;
}

TEST_P(Golden, ManyTypesConverted) {
  const auto stream = decode("types");
  values::TypeCatalog types;
  for (const Type* type : stream->all<Type>()) {
    types.add_type(type->id, type->namespace_name, type->name);
  }
  const auto relations = stream->all<Relation>();
  ASSERT_EQ(relations.size(), 1U);
  const std::vector<RelationColumn> columns(relations[0]->columns.begin(),
                                            relations[0]->columns.end());
  ASSERT_EQ(columns.size(), 39U);
  std::vector<std::vector<std::string>> rows;
  for (const Decoded& d : stream->messages) {
    if (const auto* insert = std::get_if<Insert>(&d.message)) {
      rows.push_back(typed_row(insert->new_tuple, columns, types));
    } else if (const auto* update = std::get_if<Update>(&d.message)) {
      rows.push_back(typed_row(update->new_tuple, columns, types));
    } else if (const auto* del = std::get_if<Delete>(&d.message)) {
      rows.push_back(typed_row(del->old_tuple, columns, types));
    }
  }
  ASSERT_EQ(rows.size(), 5U);

  // Row 1: every type with a value; the Update of row 1 differs in c_int4 and
  // in c_big, whose unchanged TOAST value it does not send.
  const std::vector<std::string> first{
      "int 1",
      "true",
      "int -32768",
      "int 2147483647",
      "int -9223372036854775808",
      "int 4294967295",
      "float 1.5",
      "float -2.25e-300",
      "numeric 12345.678",
      "numeric 0.000000000000000000001",
      "text 'tab\\x09and \"quote\" and \\x5C and\\x0Anewline'",
      "text 'varchar'",
      "text 'ab   '",
      "text 'a_name'",
      "bytea 3:00ff10",
      "uuid a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
      "json '{\"a\": [1, 2.5, null]}'",
      "json '{\"b\": {\"c\": true}}'",
      "date 19782",                       // 2024-02-29
      "time 86399999999us",               // 23:59:59.999999
      "timetz 43200000000us +19800s",     // 12:00:00+05:30
      "timestamp 1704067200000001",       // 2024-01-01 00:00:00.000001
      "timestamptz 946684799500000",      // 1999-12-31 23:59:59.5+00
      "interval 14mon 3d 14706789000us",  // 1 year 2 mons 3 days 04:05:06.789
      "array of 23[3] {int 1, null, int 3}",
      "array of 25[4] {text 'x y', null, text '', text 'q\"'}",
      "array of 23[2][2] {int 1, int 2, int 3, null}",
      "unknown 'happy'",
      "text '0123456789012345678901234567890123456789...' (3000 bytes)",
      "array of 16[3] {true, false, null}",
      "array of 1700[6] {numeric 1.50, numeric -0.001, numeric NaN, numeric Infinity, numeric "
      "-Infinity, null}",
      "array of 701[7] {float 1.5, float -0, float nan, float inf, float -inf, float 1e-300, "
      "null}",
      "array of 17[3] {bytea 2:00ff, bytea 0:, null}",
      "array of 2950[2] {uuid a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11, null}",
      "array of 3802[5] {json '{\"a\": 1}', json '[1, \"x\"]', json 'null', json '\"s\"', null}",
      "array of 1082[4] {date 19782, date infinity, date -735160, null}",
      "array of 1184[3] {timestamptz 946684799500000, timestamptz -infinity, null}",
      "array of 1186[3] {interval 14mon 3d 14706789000us, interval 0mon 0d -1000000us, null}",
      "array of 25[2][4] {text 'a b', null, text 'NULL', text '', text 'q\"u', text 'b\\x5Cs', "
      "text 'c,{d}', text 'é'}",
  };
  EXPECT_EQ(rows[0], first);
  std::vector<std::string> updated = first;
  updated[3] = "int 7";
  updated[28] = "toast";
  EXPECT_EQ(rows[3], updated);

  // Row 2: zeros, empty strings, specials, infinities, empty arrays.
  EXPECT_EQ(rows[1], (std::vector<std::string>{
                         "int 2",
                         "false",
                         "int 0",
                         "int 0",
                         "int 0",
                         "int 0",
                         "float nan",
                         "float inf",
                         "numeric NaN",
                         "numeric Infinity",
                         "text ''",
                         "text ''",
                         "text '     '",
                         "text ''",
                         "bytea 0:",
                         "uuid 00000000-0000-0000-0000-000000000000",
                         "json 'null'",
                         "json '[]'",
                         "date -735160",  // 0044-03-15 BC
                         "time 0us",
                         "timetz 0us -43200s",
                         "timestamp infinity",
                         "timestamptz -infinity",
                         "interval 0mon -1d 0us",
                         "array of 23 {}",
                         "array of 25 {}",
                         "array of 23[1][1] {null}",
                         "unknown 'sad'",
                         "text 'short'",
                         "array of 16[1] {null}",
                         "array of 1700 {}",
                         "array of 701 {}",
                         "array of 17 {}",
                         "array of 2950 {}",
                         "array of 3802 {}",
                         "array of 1082 {}",
                         "array of 1184 {}",
                         "array of 1186 {}",
                         "array of 25[2][1] {text 'x', text 'y'}",
                     }));

  // Row 3: NULLs but for the key and the negative infinities; its Delete
  // sends the key alone.
  std::vector<std::string> third(39, "null");
  third[0] = "int 3";
  third[6] = "float -inf";
  third[7] = "float -inf";
  EXPECT_EQ(rows[2], third);
  std::vector<std::string> key(39, "null");
  key[0] = "int 3";
  EXPECT_EQ(rows[4], key);
}

// The benchmark's stream (bench/pgoutput): 1,000 Inserts into a 5-column
// table in four transactions, each of whose values converts.
TEST(GoldenPostgreSQL15, BenchInserts) {
  const auto stream = decode_file("bench_inserts");
  EXPECT_EQ(shape(*stream), (std::vector<std::string>{
                                "Begin",
                                "Relation",
                                "Insert x250",
                                "Commit",
                                "Begin",
                                "Insert x250",
                                "Commit",
                                "Begin",
                                "Insert x250",
                                "Commit",
                                "Begin",
                                "Insert x250",
                                "Commit",
                            }));
  check_transactions(*stream);
  const auto relations = stream->all<Relation>();
  ASSERT_EQ(relations.size(), 1U);
  EXPECT_EQ(stream->messages[1].line,
            "Relation public.orders identity=d columns=id:23:key,customer:25,total:1700(655366),"
            "created_at:1184,paid:16");
  const std::vector<RelationColumn> columns(relations[0]->columns.begin(),
                                            relations[0]->columns.end());
  const values::TypeCatalog types;
  const auto inserts = stream->all<Insert>();
  ASSERT_EQ(inserts.size(), 1000U);
  // Row g: customer-(g*7919 % 977), total (g*7919 % 1000000) / 100,
  // 2024-01-02 03:04:05+00 + g * 1.234567 s, paid unless g % 3 == 0.
  EXPECT_EQ(typed_row(inserts[0]->new_tuple, columns, types),
            (std::vector<std::string>{"int 1", "text 'customer-103'", "numeric 79.19",
                                      "timestamptz 1704164646234567", "true"}));
  EXPECT_EQ(typed_row(inserts[999]->new_tuple, columns, types),
            (std::vector<std::string>{"int 1000", "text 'customer-415'", "numeric 9190.00",
                                      "timestamptz 1704165879567000", "true"}));
  for (const Insert* insert : inserts) {
    for (const std::string& value : typed_row(insert->new_tuple, columns, types)) {
      ASSERT_EQ(value.rfind("error", 0), std::string::npos) << value;
    }
  }
}

TEST_P(Golden, BinaryColumns) {
  const auto stream = decode("binary");
  EXPECT_EQ(
      stream->lines(),
      (std::vector<std::string>{
          "Begin",
          "Type public.mood",
          "Relation public.bin_t identity=d "
          "columns=id:23:key,flag:16,amount:1700,name:25,data:17,at:1184,arr:1007,m:public.mood",
          "Insert public.bin_t N(b:00000001, b:01, b:0002000000000002000c1388, b:74657874, "
          "b:deadbeef, b:0002b0d5d4e94000, "
          "b:"
          "0000000100000000000000170000000300000001000000040000000100000004000000020000000400000003"
          ", b:6f6b)",
          "Commit flags=0",
          "Begin",
          "Insert public.bin_t N(b:00000002, null, null, null, null, null, null, null)",
          "Commit flags=0",
          "Begin",
          "Update public.bin_t N(b:00000001, b:01, b:0002000000000002000c1388, b:6368616e676564, "
          "b:deadbeef, b:0002b0d5d4e94000, "
          "b:"
          "0000000100000000000000170000000300000001000000040000000100000004000000020000000400000003"
          ", b:6f6b)",
          "Commit flags=0",
      }));
  check_transactions(*stream);
}

// Replays streamed transactions as a consumer would: buffers streamed
// changes per transaction, drops a subtransaction's on its Stream Abort,
// delivers on Stream Commit; returns the delivered rows' ids in order. Rows
// whose note is in `top_level_notes` were inserted by the top transaction,
// the others by a subtransaction. With streaming 'parallel' (protocol 4)
// every Stream Abort carries its LSN and time.
std::vector<std::string> replay_streamed(const Stream& stream,
                                         const std::set<std::string>& top_level_notes,
                                         bool parallel) {
  std::map<Xid, std::vector<std::pair<Xid, std::string>>> pending;  // top xid -> (xid, id)
  std::vector<std::string> delivered;
  std::set<Xid> started;
  Xid current = 0;
  bool in_stream = false;
  std::vector<std::string> open;  // rows of a non-streamed transaction
  for (const Decoded& d : stream.messages) {
    if (const auto* s = std::get_if<StreamStart>(&d.message)) {
      EXPECT_EQ(s->first_segment, started.insert(s->xid).second) << "first_segment of " << s->xid;
      current = s->xid;
      in_stream = true;
      EXPECT_EQ(d.source->xid, s->xid);
    } else if (std::holds_alternative<StreamStop>(d.message)) {
      in_stream = false;
    } else if (const auto* insert = std::get_if<Insert>(&d.message)) {
      const std::string id(insert->new_tuple.begin()->text());
      if (in_stream) {
        // Streamed changes carry their subtransaction's xid; the SQL
        // interface's xid column is the top-level one.
        EXPECT_TRUE(insert->xid.has_value());
        if (!insert->xid) continue;
        EXPECT_EQ(d.source->xid, current);
        const std::string note(std::next(insert->new_tuple.begin())->text());
        if (top_level_notes.contains(note)) {
          EXPECT_EQ(*insert->xid, current);
        } else {
          EXPECT_GT(*insert->xid, current);
        }
        pending[current].emplace_back(*insert->xid, id);
      } else {
        EXPECT_FALSE(insert->xid.has_value());
        open.push_back(id);
      }
    } else if (const auto* r = std::get_if<Relation>(&d.message)) {
      EXPECT_EQ(r->xid.has_value(), in_stream);
      // Sent for the (sub)transaction of the change that needs it.
      if (r->xid) {
        EXPECT_GE(*r->xid, current);
      }
    } else if (const auto* a = std::get_if<StreamAbort>(&d.message)) {
      EXPECT_EQ(a->abort_lsn.has_value(), parallel);
      EXPECT_EQ(a->abort_time.has_value(), parallel);
      if (a->abort_lsn) {
        EXPECT_GT(*a->abort_lsn, Lsn{0});
      }
      EXPECT_TRUE(started.contains(a->xid));
      auto& rows = pending[a->xid];
      if (a->subxid == a->xid) {
        rows.clear();
      } else {
        EXPECT_EQ(d.source->xid, a->subxid);
        std::erase_if(rows, [&](const auto& row) { return row.first == a->subxid; });
      }
    } else if (const auto* c = std::get_if<StreamCommit>(&d.message)) {
      EXPECT_GT(c->end_lsn, c->commit_lsn);
      EXPECT_EQ(d.source->lsn, c->end_lsn);
      for (const auto& row : pending[c->xid]) delivered.push_back(row.second);
      pending.erase(c->xid);
    } else if (std::holds_alternative<Commit>(d.message)) {
      delivered.insert(delivered.end(), open.begin(), open.end());
      open.clear();
    }
  }
  return delivered;
}

// Streamed transactions (protocol 2): a committed one with a subtransaction
// rolled back after it was streamed, and an aborted one.
TEST_P(Golden, Protocol2Streaming) {
  const auto stream = decode("proto2_stream");
  EXPECT_EQ(shape(*stream), streamed_shape("proto2_stream", GetParam()));
  std::vector<std::string> expected{"1"};
  for (int id = 1000; id < 1600; ++id) expected.push_back(std::to_string(id));
  expected.emplace_back("3000");
  expected.emplace_back("2");
  EXPECT_EQ(replay_streamed(*stream, {"a", "c"}, false), expected);
  check_transactions(*stream);  // the two small ones
}

// Protocol 4 with streaming 'parallel' (16 and later): the same kinds of
// transactions, each Stream Abort with its LSN and time.
TEST_P(Golden, Protocol4ParallelStreaming) {
  if (GetParam() < 16) GTEST_SKIP() << "protocol 4 came with PostgreSQL 16";
  const auto stream = decode("proto4_parallel");
  EXPECT_EQ(shape(*stream), streamed_shape("proto4_parallel", GetParam()));
  std::vector<std::string> expected{"5"};
  for (int id = 5000; id < 5600; ++id) expected.push_back(std::to_string(id));
  expected.emplace_back("6");
  EXPECT_EQ(replay_streamed(*stream, {"d", "f"}, true), expected);
  check_transactions(*stream);
  // An abort comes after the transaction's last streamed change.
  for (const Decoded& d : stream->messages) {
    if (const auto* a = std::get_if<StreamAbort>(&d.message)) {
      EXPECT_EQ(d.source->lsn, *a->abort_lsn);
    }
  }
}

TEST_P(Golden, Protocol3TwoPhase) {
  const auto stream = decode("proto3_two_phase");
  EXPECT_EQ(shape(*stream), streamed_shape("proto3_two_phase", GetParam()));
  const auto begins = stream->all<BeginPrepare>();
  const auto prepares = stream->all<Prepare>();
  const auto commits = stream->all<CommitPrepared>();
  const auto rollbacks = stream->all<RollbackPrepared>();
  const auto stream_prepares = stream->all<StreamPrepare>();
  ASSERT_EQ(begins.size(), 2U);
  ASSERT_EQ(prepares.size(), 2U);
  ASSERT_EQ(commits.size(), 2U);
  ASSERT_EQ(rollbacks.size(), 1U);
  ASSERT_EQ(stream_prepares.size(), 1U);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(begins[i]->gid, "vil_gid_" + std::to_string(i + 1));
    EXPECT_EQ(prepares[i]->gid, begins[i]->gid);
    EXPECT_EQ(prepares[i]->xid, begins[i]->xid);
    EXPECT_EQ(prepares[i]->prepare_lsn, begins[i]->prepare_lsn);
    EXPECT_EQ(prepares[i]->end_lsn, begins[i]->end_lsn);
    EXPECT_EQ(prepares[i]->prepare_time, begins[i]->prepare_time);
    EXPECT_GT(prepares[i]->end_lsn, prepares[i]->prepare_lsn);
  }
  EXPECT_EQ(commits[0]->gid, "vil_gid_1");
  EXPECT_EQ(commits[0]->xid, prepares[0]->xid);
  EXPECT_GE(commits[0]->commit_lsn, prepares[0]->end_lsn);
  EXPECT_GT(commits[0]->end_lsn, commits[0]->commit_lsn);
  EXPECT_EQ(rollbacks[0]->gid, "vil_gid_2");
  EXPECT_EQ(rollbacks[0]->xid, prepares[1]->xid);
  EXPECT_EQ(rollbacks[0]->prepare_end_lsn, prepares[1]->end_lsn);
  EXPECT_EQ(rollbacks[0]->prepare_time, prepares[1]->prepare_time);
  EXPECT_GT(rollbacks[0]->rollback_end_lsn, rollbacks[0]->prepare_end_lsn);
  EXPECT_GE(rollbacks[0]->rollback_time, rollbacks[0]->prepare_time);
  const auto starts = stream->all<StreamStart>();
  ASSERT_EQ(starts.size(), 2U);
  EXPECT_EQ(stream_prepares[0]->gid, "vil_gid_3");
  EXPECT_EQ(stream_prepares[0]->xid, starts[0]->xid);
  EXPECT_GT(stream_prepares[0]->end_lsn, stream_prepares[0]->prepare_lsn);
  EXPECT_EQ(commits[1]->gid, "vil_gid_3");
  EXPECT_EQ(commits[1]->xid, starts[0]->xid);
  // The streamed prepared transaction's rows: 100 to 599, in order.
  std::vector<std::string> ids;
  for (const Insert* insert : stream->all<Insert>()) {
    if (insert->xid) ids.emplace_back(insert->new_tuple.begin()->text());
  }
  ASSERT_EQ(ids.size(), 500U);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], std::to_string(100 + i));
}

}  // namespace
}  // namespace vil::pgoutput
