// ChangeEncoderOptions::schemas (Kafka Connect's JsonConverter with
// schemas.enable=true) and ChangeEncoder::encode_key (the record key).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pgoutput/allocation_counter.hpp"
#include "session.hpp"

namespace vil::output::testing {
namespace {

using nlohmann::json;

namespace more_oid {
inline constexpr pgoutput::Oid date = 1082, time = 1083, timetz = 1266, jsonb_array = 3807;
}

ChangeEncoderOptions schema_options() {
  ChangeEncoderOptions options = debezium_options();
  options.schemas = true;
  return options;
}

// ---------------------------------------------------------------------------
// What JsonConverter (schemas.enable=true) does with {"schema":..,"payload":..}:
// every payload value must be what its schema says. Problems are collected
// with their path.

bool valid_base64(const std::string& s) {
  if (s.size() % 4 != 0) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || c == '+' || c == '/') continue;
    if (c == '=' && i + 2 >= s.size()) continue;
    return false;
  }
  return true;
}

bool fits_integer(const json& v, std::string_view type) {
  if (!v.is_number_integer()) return false;
  if (v.is_number_unsigned() &&
      v.get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return false;
  }
  const std::int64_t n = v.get<std::int64_t>();
  if (type == "int8") return n >= -128 && n <= 127;
  if (type == "int16") return n >= -32768 && n <= 32767;
  if (type == "int32")
    return n >= std::numeric_limits<std::int32_t>::min() &&
           n <= std::numeric_limits<std::int32_t>::max();
  return true;
}

void check_value(const json& schema, const json& value, const std::string& path,
                 std::vector<std::string>& errors) {
  const auto fail = [&](const std::string& what) { errors.push_back(path + ": " + what); };
  if (!schema.is_object() || !schema.contains("type") || !schema["type"].is_string()) {
    fail("schema without a type: " + schema.dump());
    return;
  }
  if (!schema.contains("optional") || !schema["optional"].is_boolean()) {
    fail("schema without optional");
    return;
  }
  if (value.is_null()) {
    if (!schema["optional"].get<bool>() && !schema.contains("default"))
      fail("null for a required field");
    return;
  }
  const std::string type = schema["type"].get<std::string>();
  if (type == "struct") {
    if (!value.is_object()) return fail("not an object: " + value.dump());
    if (!schema.contains("fields") || !schema["fields"].is_array())
      return fail("struct without fields");
    std::set<std::string> names;
    for (const json& field : schema["fields"]) {
      if (!field.contains("field") || !field["field"].is_string()) {
        fail("field without a name");
        continue;
      }
      const std::string name = field["field"].get<std::string>();
      if (!names.insert(name).second) fail("field " + name + " twice");
      // A field the payload lacks is read as null.
      check_value(field, value.contains(name) ? value[name] : json(nullptr), path + "." + name,
                  errors);
    }
    for (const auto& [name, v] : value.items()) {
      if (names.count(name) == 0) fail("field " + name + " not in the schema");
    }
  } else if (type == "array") {
    if (!value.is_array()) return fail("not an array: " + value.dump());
    if (!schema.contains("items")) return fail("array without items");
    for (std::size_t i = 0; i < value.size(); ++i) {
      check_value(schema["items"], value[i], path + "[" + std::to_string(i) + "]", errors);
    }
  } else if (type == "int8" || type == "int16" || type == "int32" || type == "int64") {
    if (!fits_integer(value, type)) fail("not an " + type + ": " + value.dump());
  } else if (type == "float" || type == "double") {
    // Jackson, JsonConverter's own writer, quotes NaN and the infinities.
    const bool special =
        value.is_string() && (value == "NaN" || value == "Infinity" || value == "-Infinity");
    if (!value.is_number() && !special) fail("not a number: " + value.dump());
  } else if (type == "boolean") {
    if (!value.is_boolean()) fail("not a boolean: " + value.dump());
  } else if (type == "string") {
    if (!value.is_string()) fail("not a string: " + value.dump());
  } else if (type == "bytes") {
    if (!value.is_string() || !valid_base64(value.get<std::string>()))
      fail("not base64: " + value.dump());
  } else {
    fail("unknown type " + type);
  }
}

// One line or key: exactly {"schema":..,"payload":..}, the payload as the
// schema says.
void check_connect_record(std::string_view text) {
  const json record = json::parse(text, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(record.is_object()) << text;
  EXPECT_EQ(record.size(), 2U) << text;
  ASSERT_TRUE(record.contains("schema")) << text;
  ASSERT_TRUE(record.contains("payload")) << text;
  std::vector<std::string> errors;
  check_value(record["schema"], record["payload"], "payload", errors);
  for (const std::string& e : errors) ADD_FAILURE() << e << "\n  in " << text;
}

void check_connect_lines(std::string_view out) {
  std::size_t begin = 0;
  while (begin < out.size()) {
    const std::size_t end = out.find('\n', begin);
    ASSERT_NE(end, std::string_view::npos);
    check_connect_record(out.substr(begin, end - begin));
    begin = end + 1;
  }
}

// ---------------------------------------------------------------------------
// The expected text, written out by hand.

constexpr std::string_view kSourceSchema =
    R"({"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},)"
    R"({"type":"string","optional":false,"field":"connector"},)"
    R"({"type":"string","optional":false,"field":"name"},)"
    R"({"type":"int64","optional":false,"field":"ts_ms"},)"
    R"({"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,)"
    R"("parameters":{"allowed":"true,last,false,incremental"},"default":"false","field":"snapshot"},)"
    R"({"type":"string","optional":false,"field":"db"},)"
    R"({"type":"string","optional":true,"field":"sequence"},)"
    R"({"type":"string","optional":false,"field":"schema"},)"
    R"({"type":"string","optional":false,"field":"table"},)"
    R"({"type":"int64","optional":true,"field":"txId"},)"
    R"({"type":"int64","optional":true,"field":"lsn"},)"
    R"({"type":"int64","optional":true,"field":"xmin"}],)"
    R"("optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"})";

// {"schema":<Envelope>,"payload": for vil-cdc.public.<table> whose columns'
// schemas are `fields`.
std::string envelope(std::string_view table, std::string_view fields) {
  const std::string value = std::string(R"({"type":"struct","fields":[)") + std::string(fields) +
                            R"(],"optional":true,"name":"vil-cdc.public.)" + std::string(table) +
                            R"(.Value")";
  return std::string(R"({"schema":{"type":"struct","fields":[)") + value +
         R"(,"field":"before"},)" + value + R"(,"field":"after"},)" + std::string(kSourceSchema) +
         R"(,{"type":"string","optional":false,"field":"op"})"
         R"(,{"type":"int64","optional":true,"field":"ts_ms"})"
         R"(,{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},)"
         R"({"type":"int64","optional":false,"field":"total_order"},)"
         R"({"type":"int64","optional":false,"field":"data_collection_order"}],)"
         R"("optional":true,"name":"event.block","version":1,"field":"transaction"}],)"
         R"("optional":false,"name":"vil-cdc.public.)" +
         std::string(table) + R"(.Envelope","version":1},"payload":)";
}

constexpr std::string_view kOrdersFields = R"({"type":"int32","optional":false,"field":"id"},)"
                                           R"({"type":"string","optional":true,"field":"status"},)"
                                           R"({"type":"string","optional":true,"field":"total"})";

constexpr std::string_view kOrdersKeySchema =
    R"({"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],)"
    R"("optional":false,"name":"vil-cdc.public.orders.Key"},"payload":)";

// As in debezium_test.cpp: source{} of public.<table> at 0/1A2B3C4 in
// transaction 742, and the envelope's end.
std::string source(std::string_view table) {
  return std::string(R"("source":{"version":"9.9.9","connector":"postgresql","name":"vil-cdc",)") +
         R"("ts_ms":1795482300123,"snapshot":"false","db":"shop","sequence":"[null,\"27440068\"]",)" +
         R"("schema":"public","table":")" + std::string(table) +
         R"(","txId":742,"lsn":27440068,"xmin":null})";
}

std::string tail(char op) {
  return std::string(R"(,"op":")") + op + R"(","ts_ms":1795482420042,"transaction":null}})" + "\n";
}

Session orders_session(ChangeEncoderOptions options, char identity) {
  Session s(std::move(options));
  s.keep_keys();
  s.feed(relation(16390, "public", "orders", identity,
                  {{"id", oid::int4, true}, {"status", oid::text}, {"total", oid::numeric}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  return s;
}

// ---------------------------------------------------------------------------
// Values with schemas.

TEST(DebeziumSchemas, Insert) {
  Session s = orders_session(schema_options(), 'd');
  const std::string out = s.encode(
      Wire('I').u32(16390).ch('N').columns(3).text("1").text("new").text("12.50"), 0x1A2B3C4);
  EXPECT_EQ(out, envelope("orders", kOrdersFields) +
                     R"({"before":null,"after":{"id":1,"status":"new","total":"12.50"},)" +
                     source("orders") + tail('c'));
  EXPECT_EQ(s.last_key(), std::string(kOrdersKeySchema) + R"({"id":1}})");
  check_connect_lines(out);
  check_connect_record(s.last_key().value_or(""));
}

TEST(DebeziumSchemas, UpdateThatChangesTheKey) {
  Session s = orders_session(schema_options(), 'd');
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
  EXPECT_EQ(out, envelope("orders", kOrdersFields) +
                     R"({"before":{"id":1,"status":null,"total":null},)"
                     R"("after":{"id":2,"status":"paid","total":"12.50"},)" +
                     source("orders") + tail('u'));
  // The record's key is the new row's.
  EXPECT_EQ(s.last_key(), std::string(kOrdersKeySchema) + R"({"id":2}})");
  check_connect_lines(out);
}

TEST(DebeziumSchemas, Delete) {
  Session s = orders_session(schema_options(), 'd');
  const std::string out =
      s.encode(Wire('D').u32(16390).ch('K').columns(3).text("7").null().null(), 0x1A2B3C4);
  EXPECT_EQ(out, envelope("orders", kOrdersFields) +
                     R"({"before":{"id":7,"status":null,"total":null},"after":null,)" +
                     source("orders") + tail('d'));
  EXPECT_EQ(s.last_key(), std::string(kOrdersKeySchema) + R"({"id":7}})");
  check_connect_lines(out);
}

TEST(DebeziumSchemas, TruncateHasEachTablesSchema) {
  Session s(schema_options());
  s.keep_keys();
  s.feed(relation(16390, "public", "a", 'd', {{"id", oid::int4, true}}));
  s.feed(relation(16391, "public", "b", 'f', {{"k", oid::text, true}, {"v", oid::int8, true}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  const std::string out = s.encode(truncate({16390, 16391}, 0), 0x1A2B3C4);
  EXPECT_EQ(out, envelope("a", R"({"type":"int32","optional":false,"field":"id"})") +
                     R"({"before":null,"after":null,)" + source("a") + tail('t') +
                     envelope("b", R"({"type":"string","optional":true,"field":"k"},)"
                                   R"({"type":"int64","optional":true,"field":"v"})") +
                     R"({"before":null,"after":null,)" + source("b") + tail('t'));
  EXPECT_EQ(s.last_key(), std::nullopt);
  check_connect_lines(out);
}

TEST(DebeziumSchemas, TransactionalMessage) {
  Session s(schema_options());
  s.keep_keys();
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  const std::string out = s.encode(message(true, 0x1A2B3C4, "audit", "who: \"me\""), 0);
  EXPECT_EQ(
      out,
      R"({"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"op"},)"
      R"({"type":"int64","optional":true,"field":"ts_ms"},)" +
          std::string(kSourceSchema) +
          R"(,{"type":"struct","fields":[{"type":"string","optional":true,"field":"prefix"},)"
          R"({"type":"bytes","optional":true,"field":"content"}],"optional":false,)"
          R"("name":"io.debezium.connector.postgresql.Message","version":1,"field":"message"}],)"
          R"("optional":false,"name":"io.debezium.connector.postgresql.MessageValue","version":1},)"
          R"("payload":{"op":"m","ts_ms":1795482420042,"source":{"version":"9.9.9",)"
          R"("connector":"postgresql","name":"vil-cdc","ts_ms":1795482300123,"snapshot":"false",)"
          R"("db":"shop","sequence":"[null,\"27440068\"]","schema":"","table":"","txId":742,)"
          R"("lsn":27440068,"xmin":null},"message":{"prefix":"audit","content":"d2hvOiAibWUi"}}})"
          "\n");
  EXPECT_EQ(
      s.last_key(),
      R"({"schema":{"type":"struct","fields":[{"type":"string","optional":true,)"
      R"("field":"prefix"}],"optional":false,"name":"io.debezium.connector.postgresql.MessageKey",)"
      R"("version":1},"payload":{"prefix":"audit"}})");
  check_connect_lines(out);
  check_connect_record(s.last_key().value_or(""));
}

TEST(DebeziumSchemas, JsonValuesAreStrings) {
  Session s(schema_options());
  s.keep_keys();
  s.feed(relation(16384, "public", "docs", 'd',
                  {{"doc", oid::jsonb, true}, {"raw", oid::json}, {"all", more_oid::jsonb_array}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  const std::string out = s.encode(Wire('I')
                                       .u32(16384)
                                       .ch('N')
                                       .columns(3)
                                       .text(R"({"k": [1, 2]})")
                                       .text("[true,\n null]")
                                       .text(R"({"{\"a\": 1}",NULL,"[]"})"),
                                   0x1A2B3C4);
  const json line = parse_line(out);
  EXPECT_EQ(line["payload"]["after"],
            json::parse(R"({"doc":"{\"k\": [1, 2]}","raw":"[true,\n null]",)"
                        R"("all":["{\"a\": 1}",null,"[]"]})"));
  const json fields = line["schema"]["fields"][1]["fields"];
  EXPECT_EQ(fields[0], json::parse(R"({"type":"string","optional":false,)"
                                   R"("name":"io.debezium.data.Json","version":1,"field":"doc"})"));
  EXPECT_EQ(fields[2], json::parse(R"({"type":"array","items":{"type":"string","optional":true,)"
                                   R"("name":"io.debezium.data.Json","version":1},)"
                                   R"("optional":true,"field":"all"})"));
  // The key's json is a string too.
  EXPECT_EQ(s.last_key().value_or(""),
            R"({"schema":{"type":"struct","fields":[{"type":"string","optional":false,)"
            R"("name":"io.debezium.data.Json","version":1,"field":"doc"}],"optional":false,)"
            R"("name":"vil-cdc.public.docs.Key"},"payload":{"doc":"{\"k\": [1, 2]}"}})");
  check_connect_lines(out);
}

TEST(DebeziumSchemas, ANewRelationMessageChangesTheSchema) {
  Session s = orders_session(schema_options(), 'd');
  (void)s.encode(Wire('I').u32(16390).ch('N').columns(3).text("1").null().null(), 0x1A2B3C4);
  s.feed(
      relation(16390, "public", "orders", 'd', {{"id", oid::int8, true}, {"total", oid::float8}}));
  const std::string out =
      s.encode(Wire('I').u32(16390).ch('N').columns(2).text("2").text("0.5"), 0x1A2B3C4);
  EXPECT_EQ(out, envelope("orders", R"({"type":"int64","optional":false,"field":"id"},)"
                                    R"({"type":"double","optional":true,"field":"total"})") +
                     R"({"before":null,"after":{"id":2,"total":0.5},)" + source("orders") +
                     tail('c'));
  EXPECT_EQ(
      s.last_key(),
      R"({"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],)"
      R"("optional":false,"name":"vil-cdc.public.orders.Key"},"payload":{"id":2}})");
}

// REPLICA IDENTITY FULL: every column is key, and may be NULL.
TEST(DebeziumSchemas, FullIdentityKeyFieldsAreOptional) {
  Session s = orders_session(schema_options(), 'f');
  s.feed(relation(16390, "public", "orders", 'f',
                  {{"id", oid::int4, true}, {"status", oid::text, true}}));
  (void)s.encode(Wire('D').u32(16390).ch('O').columns(2).text("7").null(), 0x1A2B3C4);
  EXPECT_EQ(s.last_key(),
            R"({"schema":{"type":"struct","fields":[{"type":"int32","optional":true,"field":"id"},)"
            R"({"type":"string","optional":true,"field":"status"}],"optional":false,)"
            R"("name":"vil-cdc.public.orders.Key"},"payload":{"id":7,"status":null}})");
  check_connect_record(s.last_key().value_or(""));
}

TEST(DebeziumSchemas, SchemaNamesFollowTheServerName) {
  ChangeEncoderOptions options = schema_options();
  options.server_name = "shop\"db";
  Session s(std::move(options));
  s.keep_keys();
  s.feed(relation(16390, "sales", "orders", 'd', {{"id", oid::int4, true}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  const json line =
      parse_line(s.encode(Wire('I').u32(16390).ch('N').columns(1).text("1"), 0x1A2B3C4));
  EXPECT_EQ(line["schema"]["name"], "shop\"db.sales.orders.Envelope");
  EXPECT_EQ(line["schema"]["fields"][0]["name"], "shop\"db.sales.orders.Value");
  EXPECT_EQ(parse_line(s.last_key().value_or("{}"))["schema"]["name"], "shop\"db.sales.orders.Key");
}

// Every column type the other tests use, through inserts, updates and
// deletes, with values and with NULLs: what JsonConverter would accept.
TEST(DebeziumSchemas, EveryTypeMatchesItsSchema) {
  for (const char identity : {'d', 'f'}) {
    Session s(schema_options());
    s.keep_keys();
    s.feed(type(16400, "public", "mood"));
    s.feed(relation(16384, "public", "every", identity,
                    {{"id", oid::int4, true},
                     {"flag", oid::boolean, identity == 'f'},
                     {"raw", oid::bytea, identity == 'f'},
                     {"big", oid::int8, identity == 'f'},
                     {"small", oid::int2, identity == 'f'},
                     {"note", oid::text, identity == 'f'},
                     {"doc", oid::json, identity == 'f'},
                     {"f4", oid::float4, identity == 'f'},
                     {"f8", oid::float8, identity == 'f'},
                     {"ints", oid::int4_array, identity == 'f'},
                     {"grid", oid::text_array, identity == 'f'},
                     {"at", oid::timestamp, identity == 'f'},
                     {"at_tz", oid::timestamptz, identity == 'f'},
                     {"span", oid::interval, identity == 'f'},
                     {"amount", oid::numeric, identity == 'f'},
                     {"u", oid::uuid, identity == 'f'},
                     {"docb", oid::jsonb, identity == 'f'},
                     {"mood", 16400, identity == 'f'},
                     {"day", more_oid::date, identity == 'f'},
                     {"clock", more_oid::time, identity == 'f'},
                     {"clock_tz", more_oid::timetz, identity == 'f'},
                     {"docs", more_oid::jsonb_array, identity == 'f'}}));
    s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
    const auto full_row = [](Wire& w, std::string_view id) -> Wire& {
      return w.columns(22)
          .text(id)
          .text("t")
          .text("\\x00ff")
          .text("-9223372036854775808")
          .text("-32768")
          .text("tab\there")
          .text(R"({"k": [1, {"n": null}]})")
          .text("NaN")
          .text("-1.5e300")
          .text("{1,NULL,3}")
          .text(R"({a,"b c",NULL})")
          .text("2026-11-24 01:05:00.5")
          .text("2026-11-24 01:05:00+01")
          .text("1 year 2 mons 3 days 04:05:06")
          .text("-0.001")
          .text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
          .text(R"([1, "x"])")
          .text("sad")
          .text("2026-11-24")
          .text("01:05:00")
          .text("01:05:00+01")
          .text(R"({"{\"a\": 1}",NULL})");
    };
    const auto null_row = [](Wire& w, std::string_view id) -> Wire& {
      w.columns(22).text(id);
      for (int i = 1; i < 22; ++i) w.null();
      return w;
    };
    std::vector<std::string> lines;
    std::vector<std::string> keys;
    const auto encode = [&](const Wire& w) {
      lines.push_back(s.encode(w, 0x1A2B3C4));
      if (s.last_key()) keys.push_back(*s.last_key());
    };
    {
      Wire w('I');
      w.u32(16384).ch('N');
      encode(full_row(w, "1"));
    }
    {
      Wire w('I');
      w.u32(16384).ch('N');
      encode(null_row(w, "2"));
    }
    {
      Wire w('U');
      w.u32(16384).ch(identity == 'f' ? 'O' : 'K');
      if (identity == 'f') {
        full_row(w, "1");
      } else {
        null_row(w, "1");
      }
      w.ch('N');
      encode(null_row(w, "3"));
    }
    {
      Wire w('D');
      w.u32(16384).ch(identity == 'f' ? 'O' : 'K');
      encode(identity == 'f' ? full_row(w, "3") : null_row(w, "3"));
    }
    {
      Wire w('D');
      w.u32(16384).ch(identity == 'f' ? 'O' : 'K');
      encode(null_row(w, "2"));
    }
    for (const std::string& line : lines) check_connect_lines(line);
    ASSERT_EQ(keys.size(), 5U) << identity;
    for (const std::string& key : keys) check_connect_record(key);
    // Under FULL the key is the whole row, nulls and all.
    const json last_key = parse_line(keys.back());
    EXPECT_EQ(last_key["payload"].size(), identity == 'f' ? 22U : 1U);
    EXPECT_EQ(last_key["payload"]["id"], 2);
    const json first = parse_line(lines.front());
    EXPECT_EQ(first["payload"]["after"]["doc"], R"({"k": [1, {"n": null}]})");
    EXPECT_EQ(first["payload"]["after"]["f4"], "NaN");
    EXPECT_EQ(first["payload"]["after"]["ints"], json::parse("[1,null,3]"));
  }
}

// The checker itself finds what JsonConverter would refuse.
TEST(DebeziumSchemas, TheCheckerRefusesMismatches) {
  const auto errors = [](std::string_view schema, std::string_view payload) {
    std::vector<std::string> found;
    check_value(json::parse(schema), json::parse(payload), "payload", found);
    return found.size();
  };
  constexpr std::string_view s =
      R"({"type":"struct","optional":false,"fields":[)"
      R"({"type":"int16","optional":false,"field":"a"},)"
      R"({"type":"array","optional":true,"items":{"type":"string","optional":true},"field":"b"}]})";
  EXPECT_EQ(errors(s, R"({"a":1,"b":["x",null]})"), 0U);
  EXPECT_EQ(errors(s, R"({"a":1})"), 0U);
  EXPECT_EQ(errors(s, R"({"a":null})"), 1U);
  EXPECT_EQ(errors(s, R"({"b":null})"), 1U);
  EXPECT_EQ(errors(s, R"({"a":70000})"), 1U);
  EXPECT_EQ(errors(s, R"({"a":1,"b":[1]})"), 1U);
  EXPECT_EQ(errors(s, R"({"a":1,"c":1})"), 1U);
  EXPECT_EQ(errors(s, R"({"a":"1"})"), 1U);
}

TEST(DebeziumSchemas, JsonLinesIgnoresTheOption) {
  ChangeEncoderOptions options = jsonl_options();
  options.schemas = true;
  Session with(std::move(options));
  Session without(jsonl_options());
  for (Session* s : {&with, &without}) {
    s->feed(relation(16390, "public", "t", 'd', {{"id", oid::int4, true}, {"doc", oid::jsonb}}));
    s->feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  }
  const Wire w = std::move(Wire('I').u32(16390).ch('N').columns(2).text("1").text("{\"a\": 1}"));
  EXPECT_EQ(with.encode(w, 0x1A2B3C4), without.encode(w, 0x1A2B3C4));
}

// ---------------------------------------------------------------------------
// Keys without schemas: the same in both formats.

class Keys : public ::testing::TestWithParam<Format> {
 protected:
  ChangeEncoderOptions options() const {
    ChangeEncoderOptions o = debezium_options();
    o.format = GetParam();
    return o;
  }
};

TEST_P(Keys, DefaultIdentity) {
  Session s = orders_session(options(), 'd');
  (void)s.encode(Wire('I').u32(16390).ch('N').columns(3).text("1").text("new").text("12.50"),
                 0x1A2B3C4);
  EXPECT_EQ(s.last_key(), R"({"id":1})");
  // An update that kept its key: no old row; the key is the new row's.
  (void)s.encode(Wire('U').u32(16390).ch('N').columns(3).text("1").text("paid").null(), 0x1A2B3C4);
  EXPECT_EQ(s.last_key(), R"({"id":1})");
  // One that changed it: the new key.
  (void)s.encode(Wire('U')
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
                     .null(),
                 0x1A2B3C4);
  EXPECT_EQ(s.last_key(), R"({"id":2})");
  // A delete: from the old key.
  (void)s.encode(Wire('D').u32(16390).ch('K').columns(3).text("2").null().null(), 0x1A2B3C4);
  EXPECT_EQ(s.last_key(), R"({"id":2})");
}

TEST_P(Keys, CompositeKeyInTheRelationsOrderWithRowValues) {
  Session s(options());
  s.keep_keys();
  s.feed(relation(16390, "public", "lines", 'i',
                  {{"amount", oid::numeric, true},
                   {"note", oid::text},
                   {"doc", oid::jsonb, true},
                   {"name", oid::text, true}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  (void)s.encode(Wire('I')
                     .u32(16390)
                     .ch('N')
                     .columns(4)
                     .text("12.50")
                     .text("x")
                     .text("{\"a\": [1]}")
                     .text("say \"hi\"\n"),
                 0x1A2B3C4);
  EXPECT_EQ(s.last_key(), R"({"amount":"12.50","doc":{"a": [1]},"name":"say \"hi\"\n"})");
}

TEST_P(Keys, FullIdentityIsTheWholeRow) {
  Session s(options());
  s.keep_keys();
  // pgoutput flags every column of a REPLICA IDENTITY FULL table.
  s.feed(relation(
      16390, "public", "orders", 'f',
      {{"id", oid::int4, true}, {"status", oid::text, true}, {"total", oid::numeric, true}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  (void)s.encode(Wire('I').u32(16390).ch('N').columns(3).text("1").text("new").null(), 0x1A2B3C4);
  EXPECT_EQ(s.last_key(), R"({"id":1,"status":"new","total":null})");
  (void)s.encode(Wire('D').u32(16390).ch('O').columns(3).text("7").text("x").text("1.0"),
                 0x1A2B3C4);
  EXPECT_EQ(s.last_key(), R"({"id":7,"status":"x","total":"1.0"})");
}

TEST_P(Keys, NothingIdentityHasNoKey) {
  Session s = orders_session(options(), 'n');
  s.feed(relation(16390, "public", "orders", 'n',
                  {{"id", oid::int4}, {"status", oid::text}, {"total", oid::numeric}}));
  (void)s.encode(Wire('I').u32(16390).ch('N').columns(3).text("1").text("new").null(), 0x1A2B3C4);
  EXPECT_EQ(s.last_key(), std::nullopt);
  (void)s.encode(Wire('U').u32(16390).ch('N').columns(3).text("1").text("paid").null(), 0x1A2B3C4);
  EXPECT_EQ(s.last_key(), std::nullopt);
  (void)s.encode(Wire('D').u32(16390).ch('K').columns(3).null().null().null(), 0x1A2B3C4);
  EXPECT_EQ(s.last_key(), std::nullopt);
}

TEST_P(Keys, UnchangedToastedKeyComesFromTheOldRow) {
  Session s(options());
  s.keep_keys();
  s.feed(relation(16390, "public", "docs", 'd', {{"name", oid::text, true}, {"v", oid::int4}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  (void)s.encode(
      Wire('U').u32(16390).ch('K').columns(2).text("long").null().ch('N').columns(2).toast().text(
          "1"),
      0x1A2B3C4);
  EXPECT_EQ(s.last_key(), R"({"name":"long"})");
  (void)s.encode(Wire('U').u32(16390).ch('N').columns(2).toast().text("1"), 0x1A2B3C4);
  EXPECT_EQ(s.last_key(), R"({"name":"__debezium_unavailable_value"})");
}

TEST_P(Keys, TruncateHasNoKeyAndAMessageItsPrefix) {
  Session s(options());
  s.keep_keys();
  s.feed(relation(16390, "public", "a", 'd', {{"id", oid::int4, true}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  (void)s.encode(truncate({16390}, 0), 0x1A2B3C4);
  EXPECT_EQ(s.last_key(), std::nullopt);
  (void)s.encode(message(true, 0x1A2B3C4, "audit \"x\"", "c"), 0);
  EXPECT_EQ(s.last_key(), R"({"prefix":"audit \"x\""})");
  (void)s.encode(message(false, 0x3000028, "", "c"), 0);
  EXPECT_EQ(s.last_key(), R"({"prefix":""})");
}

TEST_P(Keys, SnapshotRowKeyIsItsRows) {
  Session s(options());
  s.keep_keys();
  s.feed(
      relation(16390, "public", "orders", 'd', {{"id", oid::int4, true}, {"status", oid::text}}));
  const Wire row = std::move(Wire('I').u32(16390).ch('N').columns(2).text("5").text("x"));
  auto decoded = s.decoder().decode(row.span());
  ASSERT_TRUE(decoded) << decoded.error().message;
  const auto* insert = std::get_if<pgoutput::Insert>(&decoded->message);
  cdc::Change read;
  read.kind = cdc::ChangeKind::Read;
  read.relation = decoded->relation;
  read.types = &s.decoder().types();
  read.new_tuple = insert != nullptr ? insert->new_tuple : pgoutput::TupleView{};
  (void)s.encode(read);
  EXPECT_EQ(s.last_key(), R"({"id":5})");
}

INSTANTIATE_TEST_SUITE_P(BothFormats, Keys, ::testing::Values(Format::JsonLines, Format::Debezium),
                         [](const ::testing::TestParamInfo<Format>& param) {
                           return param.param == Format::JsonLines ? std::string("JsonLines")
                                                                   : std::string("Debezium");
                         });

// Steady state: keys and values with schemas allocate nothing.
TEST(DebeziumSchemas, EncodingDoesNotAllocate) {
  for (const bool schemas : {false, true}) {
    ChangeEncoderOptions options = debezium_options();
    options.schemas = schemas;
    Session s(std::move(options));
    s.feed(relation(16390, "public", "orders", 'd',
                    {{"id", oid::int4, true}, {"name", oid::text}, {"doc", oid::jsonb}}));
    const Wire ins =
        std::move(Wire('I').u32(16390).ch('N').columns(3).text("1").text("a").text("{\"a\": 1}"));
    auto decoded = s.decoder().decode(ins.span());
    ASSERT_TRUE(decoded) << decoded.error().message;
    cdc::Change c;
    c.relation = decoded->relation;
    c.types = &s.decoder().types();
    c.commit_lsn = pgoutput::Lsn{0x1A2B3F0};
    c.lsn = pgoutput::Lsn{0x1A2B3C4};
    c.kind = cdc::ChangeKind::Insert;
    const auto* insert = std::get_if<pgoutput::Insert>(&decoded->message);
    c.new_tuple = insert != nullptr ? insert->new_tuple : pgoutput::TupleView{};
    std::string out;
    std::string key;
    s.encoder().encode(c, out);  // warm the caches
    (void)s.encoder().encode_key(c, key);
    out.reserve(out.size() * 2);
    key.reserve(key.size() * 2);
    long allocations = 0;
    {
      pgoutput::testing::AllocationCounter counter;
      for (int round = 0; round < 100; ++round) {
        out.clear();
        key.clear();
        s.encoder().encode(c, out);
        EXPECT_TRUE(s.encoder().encode_key(c, key));
      }
      allocations = counter.count();
    }
    EXPECT_EQ(allocations, 0) << "schemas " << schemas;
    if (schemas) {
      check_connect_lines(out);
      check_connect_record(key);
    }
  }
}

}  // namespace
}  // namespace vil::output::testing
