// Every value in its JSON kind, end to end through `vil-cdc stream`: arrays of
// every built-in element type, domains (resolved through the server's
// catalog), and logical messages whose content is not UTF-8 text, in a UTF-8,
// a LATIN1 and a SQL_ASCII database. Each value is compared with the exact
// JSON expected of it.

#include <string>
#include <string_view>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"

namespace vil::testing::cli {
namespace {

struct ArrayCase {
  std::string_view element;   // pg_type's name; the column is c_<element>, of type _<element>
  std::string_view literal;   // a value of several elements ("" when the type takes none)
  std::string_view expected;  // its JSON
};

// Every base, range and multirange type of PostgreSQL 15 that has an array
// type (vil/values/oids.hpp lists the same 76). The expected JSON was made by
// PostgreSQL itself (json_agg over unnest, each element as its type's JSON
// rule says: numbers and bool as JSON, json/jsonb embedded, the rest as their
// text), then read over by hand.
constexpr ArrayCase kArrays[] = {
    {"bool", R"v({t,f})v", R"v([true,false])v"},
    {"bytea", R"v({"\\x0102ff","\\x"})v", R"v(["\\x0102ff","\\x"])v"},
    {"char", R"v({a,"\\\\"})v", R"v(["a","\\"])v"},
    {"name", R"v({pg_class,"with space"})v", R"v(["pg_class","with space"])v"},
    {"int8", R"v({-9223372036854775808,42})v", R"v([-9223372036854775808,42])v"},
    {"int2", R"v({-32768,7})v", R"v([-32768,7])v"},
    {"int2vector", R"v({"1 2","3"})v", R"v(["1 2","3"])v"},
    {"int4", R"v({2147483647,-1})v", R"v([2147483647,-1])v"},
    {"regproc", R"v({now,int4in})v", R"v(["now","int4in"])v"},
    {"text", R"v({"a,b","quote\"d",NULL})v", R"v(["a,b","quote\"d",null])v"},
    {"oid", R"v({0,4294967295})v", R"v([0,4294967295])v"},
    {"tid", R"v({"(0,1)","(4294967295,65535)"})v", R"v(["(0,1)","(4294967295,65535)"])v"},
    {"xid", R"v({1,4294967295})v", R"v(["1","4294967295"])v"},
    {"cid", R"v({0,7})v", R"v(["0","7"])v"},
    {"oidvector", R"v({"1 2",""})v", R"v(["1 2",""])v"},
    {"json", R"v({"{\"a\": [1, 2]}","\"s\""})v", R"v([{"a":[1,2]},"s"])v"},
    {"xml", R"v({<a>x</a>,"<b c=\"d\"/>"})v", R"v(["<a>x</a>","<b c=\"d\"/>"])v"},
    {"point", R"v({"(1,2)","(-1.5,0)"})v", R"v(["(1,2)","(-1.5,0)"])v"},
    {"lseg", R"v({"[(1,2),(3,4)]"})v", R"v(["[(1,2),(3,4)]"])v"},
    {"path", R"v({"((0,0),(1,1),(2,0))","[(0,0),(1,1)]"})v",
     R"v(["((0,0),(1,1),(2,0))","[(0,0),(1,1)]"])v"},
    {"box", R"v({(1,1),(0,0);(3,3),(2,2)})v", R"v(["(1,1),(0,0)","(3,3),(2,2)"])v"},
    {"polygon", R"v({"((0,0),(1,1),(1,0))"})v", R"v(["((0,0),(1,1),(1,0))"])v"},
    {"line", R"v({"{1,-1,0}"})v", R"v(["{1,-1,0}"])v"},
    {"cidr", R"v({10.0.0.0/8,::/0})v", R"v(["10.0.0.0/8","::/0"])v"},
    {"float4", R"v({1.5,NaN,-Infinity})v", R"v([1.5,"NaN","-Infinity"])v"},
    {"float8", R"v({0.1,Infinity})v", R"v([0.1,"Infinity"])v"},
    {"circle", R"v({"<(0,0),1>"})v", R"v(["<(0,0),1>"])v"},
    {"macaddr8", R"v({08:00:2b:01:02:03:04:05})v", R"v(["08:00:2b:01:02:03:04:05"])v"},
    {"money", R"v({1.50,-0.01})v", R"v(["$1.50","-$0.01"])v"},
    {"macaddr", R"v({08:00:2b:01:02:03})v", R"v(["08:00:2b:01:02:03"])v"},
    {"inet", R"v({10.0.0.1,::1/128})v", R"v(["10.0.0.1","::1"])v"},
    {"aclitem", R"v({pg_monitor=r/pg_monitor,=arw/pg_monitor})v",
     R"v(["pg_monitor=r/pg_monitor","=arw/pg_monitor"])v"},
    {"bpchar", R"v({"ab ","c"})v", R"v(["ab ","c"])v"},
    {"varchar", R"v({x,"y z"})v", R"v(["x","y z"])v"},
    {"date", R"v({2024-02-29,infinity})v", R"v(["2024-02-29","infinity"])v"},
    {"time", R"v({23:59:59.999999,00:00:00})v", R"v(["23:59:59.999999","00:00:00"])v"},
    {"timestamp", R"v({"2024-01-02 03:04:05.123456",-infinity})v",
     R"v(["2024-01-02 03:04:05.123456","-infinity"])v"},
    {"timestamptz", R"v({"2024-01-02 03:04:05.123456+02"})v",
     R"v(["2024-01-02 01:04:05.123456+00"])v"},
    {"interval", R"v({"1 year 2 mons","-00:00:01"})v", R"v(["1 year 2 mons","-00:00:01"])v"},
    {"timetz", R"v({12:34:56.789+05:30})v", R"v(["12:34:56.789+05:30"])v"},
    {"bit", R"v({101,0})v", R"v(["101","0"])v"},
    {"varbit", R"v({1,""})v", R"v(["1",""])v"},
    {"numeric", R"v({12345678901234567890.123456789,NaN})v",
     R"v(["12345678901234567890.123456789","NaN"])v"},
    {"refcursor", R"v({c1,"my cursor"})v", R"v(["c1","my cursor"])v"},
    {"regprocedure", R"v({"sum(integer)"})v", R"v(["sum(integer)"])v"},
    {"regoper", R"v({pg_catalog.||/})v", R"v(["||/"])v"},
    {"regoperator", R"v({"+(integer,integer)"})v", R"v(["+(integer,integer)"])v"},
    {"regclass", R"v({pg_class,pg_type})v", R"v(["pg_class","pg_type"])v"},
    {"regtype", R"v({int4,"character varying"})v", R"v(["integer","character varying"])v"},
    {"uuid", R"v({a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11})v",
     R"v(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"])v"},
    {"txid_snapshot", R"v({"10:20:10,14,15"})v", R"v(["10:20:10,14,15"])v"},
    {"pg_lsn", R"v({0/16B3748,FFFFFFFF/FFFFFFFF})v", R"v(["0/16B3748","FFFFFFFF/FFFFFFFF"])v"},
    {"tsvector", R"v({"a fat:2 cat"})v", R"v(["'a' 'cat' 'fat':2"])v"},
    {"tsquery", R"v({"a & !b"})v", R"v(["'a' & !'b'"])v"},
    {"gtsvector", "", "null"},  // no input function: only {} and {NULL}
    {"regconfig", R"v({english,simple})v", R"v(["english","simple"])v"},
    {"regdictionary", R"v({simple})v", R"v(["simple"])v"},
    {"jsonb", R"v({"{\"b\": 1, \"a\": null}",[]})v", R"v([{"a":null,"b":1},[]])v"},
    {"int4range", R"v({"[1,3)",empty})v", R"v(["[1,3)","empty"])v"},
    {"numrange", R"v({"[1.5,2.5]"})v", R"v(["[1.5,2.5]"])v"},
    {"tsrange", R"v({"[2024-01-01 00:00,2024-01-02 00:00)"})v",
     R"v(["[\"2024-01-01 00:00:00\",\"2024-01-02 00:00:00\")"])v"},
    {"tstzrange", R"v({"[2024-01-01 00:00+00,)"})v", R"v(["[\"2024-01-01 00:00:00+00\",)"])v"},
    {"daterange", R"v({"[2024-01-01,2024-01-03]"})v", R"v(["[2024-01-01,2024-01-04)"])v"},
    {"int8range", R"v({"[1,3)","[10,21)"})v", R"v(["[1,3)","[10,21)"])v"},
    {"jsonpath", R"v({"$.a[*] ? (@ > 1)"})v", R"v(["$.\"a\"[*]?(@ > 1)"])v"},
    {"regnamespace", R"v({pg_catalog})v", R"v(["pg_catalog"])v"},
    {"regrole", R"v({pg_monitor})v", R"v(["pg_monitor"])v"},
    {"regcollation", R"v({"\"C\"","\"POSIX\""})v", R"v(["\"C\"","\"POSIX\""])v"},
    {"int4multirange", R"v({"{[1,3),[5,7)}","{}"})v", R"v(["{[1,3),[5,7)}","{}"])v"},
    {"nummultirange", R"v({"{[1,2]}"})v", R"v(["{[1,2]}"])v"},
    {"tsmultirange", R"v({"{[2024-01-01 00:00,2024-01-02 00:00)}"})v",
     R"v(["{[\"2024-01-01 00:00:00\",\"2024-01-02 00:00:00\")}"])v"},
    {"tstzmultirange", R"v({"{[2024-01-01 00:00+00,2024-01-02 00:00+00)}"})v",
     R"v(["{[\"2024-01-01 00:00:00+00\",\"2024-01-02 00:00:00+00\")}"])v"},
    {"datemultirange", R"v({"{[2024-01-01,2024-01-03)}"})v", R"v(["{[2024-01-01,2024-01-03)}"])v"},
    {"int8multirange", R"v({"{[1,3)}"})v", R"v(["{[1,3)}"])v"},
    {"pg_snapshot", R"v({"10:20:10,14,15","5:5:"})v", R"v(["10:20:10,14,15","5:5:"])v"},
    {"xid8", R"v({0,18446744073709551615})v", R"v(["0","18446744073709551615"])v"},
};

// The database's own row for a multi-element value: "<id>", then each column.
std::string insert_sql(int id, bool empty_or_null) {
  std::string sql = fmt::format("INSERT INTO arrays VALUES ({}", id);
  for (const ArrayCase& c : kArrays) {
    if (empty_or_null) {
      sql += id == 1 ? ", '{}'" : ", '{NULL}'";
    } else if (c.literal.empty()) {
      sql += ", NULL";
    } else {
      sql += fmt::format(", $v${}$v$", c.literal);
    }
  }
  return sql + ");";
}

// The run's lines, stream ends at the server's current WAL position.
std::vector<Json> stream_to_end(const std::vector<std::string>& args) {
  const ProcessResult r = run_vil_cdc(args);
  EXPECT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.err, "");
  return parse_lines(r.out);
}

class CliTypes : public CliTest {
 protected:
  std::vector<Json> run_to_end() {
    const std::string end = current_wal_lsn();
    return stream_to_end(stream_args({"--end-lsn", end}));
  }
};

TEST_F(CliTypes, EveryBuiltinArrayTypeIsAJsonArray) {
  std::string ddl = "CREATE TABLE arrays (id int4 PRIMARY KEY";
  for (const ArrayCase& c : kArrays) ddl += fmt::format(", c_{0} _{0}", c.element);
  execute(ddl + ")");
  make_stream();
  execute(insert_sql(1, true) + insert_sql(2, true) + insert_sql(3, false));

  const std::vector<Json> lines = run_to_end();
  ASSERT_EQ(lines.size(), 3u);
  for (int row = 0; row < 3; ++row) {
    const Json& line = lines[static_cast<size_t>(row)];
    ASSERT_EQ(line.at("op"), "insert") << line.dump();
    const Json& after = line.at("after");
    EXPECT_EQ(after.at("id"), row + 1);
    EXPECT_EQ(after.size(), std::size(kArrays) + 1);
    for (const ArrayCase& c : kArrays) {
      const std::string column = fmt::format("c_{}", c.element);
      ASSERT_TRUE(after.contains(column)) << column;
      const Json expected = row == 0   ? Json::array()
                            : row == 1 ? Json::parse("[null]")
                                       : Json::parse(c.expected);
      EXPECT_EQ(after.at(column), expected)
          << "row " << row + 1 << ", " << column << ": " << after.at(column).dump();
    }
  }
}

TEST_F(CliTypes, DomainsFollowTheirBaseType) {
  execute(
      "CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);"
      "CREATE DOMAIN small_posint AS posint CHECK (VALUE < 100);"  // a domain over a domain
      "CREATE DOMAIN ratio AS float8;"
      "CREATE DOMAIN flag AS bool;"
      "CREATE DOMAIN doc AS jsonb;"
      "CREATE DOMAIN amount AS numeric(10,2);"
      "CREATE DOMAIN tags AS text[];"
      "CREATE DOMAIN label AS text;"
      "CREATE TABLE domains (id posint PRIMARY KEY, d posint, dd small_posint, f ratio,"
      " b flag, j doc, n amount, t tags, pa posint[], spa small_posint[], l label);"
      "ALTER TABLE domains REPLICA IDENTITY FULL;");
  make_stream();
  execute(R"(INSERT INTO domains VALUES (1, 7, 8, 1.5, true, '{"k": 1}', 12.5, '{a,"b c"}',)"
          R"( '{1,NULL,3}', '{}', 'x');)"
          "INSERT INTO domains VALUES (2, NULL, NULL, 'NaN', false, 'null', NULL, '{}', NULL,"
          " '{{5,6},{7,8}}', NULL);"
          "UPDATE domains SET d = 9 WHERE id = 1;"
          "DELETE FROM domains WHERE id = 2;");

  const std::vector<Json> lines = run_to_end();
  ASSERT_EQ(lines.size(), 4u);
  const std::string row1 =
      R"({"id":1,"d":7,"dd":8,"f":1.5,"b":true,"j":{"k":1},"n":"12.50","t":["a","b c"],)"
      R"("pa":[1,null,3],"spa":[],"l":"x"})";
  const std::string row2 =
      R"({"id":2,"d":null,"dd":null,"f":"NaN","b":false,"j":null,"n":null,"t":[],"pa":null,)"
      R"("spa":[[5,6],[7,8]],"l":null})";
  const std::string row1_updated =
      R"({"id":1,"d":9,"dd":8,"f":1.5,"b":true,"j":{"k":1},"n":"12.50","t":["a","b c"],)"
      R"("pa":[1,null,3],"spa":[],"l":"x"})";
  EXPECT_EQ(lines[0].at("after"), Json::parse(row1));
  EXPECT_EQ(lines[1].at("after"), Json::parse(row2));
  EXPECT_EQ(lines[2].at("before"), Json::parse(row1));
  EXPECT_EQ(lines[2].at("after"), Json::parse(row1_updated));
  EXPECT_EQ(lines[3].at("op"), "delete");
  EXPECT_EQ(lines[3].at("before"), Json::parse(row2));
  // A jsonb null is JSON's null: embedded, not the string "null".
  EXPECT_TRUE(lines[1].at("after").at("j").is_null());
}

// The catalog is asked on a connection of its own; when it cannot answer
// (here: the role may not read pg_type in this database, which decoding
// does not need), the stream goes on, the domain keeps its text, and stderr
// says why, without the password.
TEST_F(CliTypes, ACatalogThatCannotBeAskedLeavesDomainsAsTextAndSaysSo) {
  const std::string role = unique_name("no_pg_type");
  execute("CREATE ROLE " + role + " LOGIN REPLICATION");
  execute(
      "CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);"
      "CREATE TABLE d (id int PRIMARY KEY, p posint);"
      "REVOKE SELECT ON pg_catalog.pg_type FROM PUBLIC;");
  make_stream();
  execute("INSERT INTO d VALUES (1, 7)");
  const ProcessResult r =
      run_vil_cdc({"stream", "--conn", conninfo(role) + " password=s3cret-pw", "--slot", slot_,
                   "--publication", publication_, "--end-lsn", current_wal_lsn(), "--no-quiet"});
  execute("DROP ROLE " + role);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const std::vector<Json> lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("after"), Json::parse(R"({"id":1,"p":"7"})"));
  EXPECT_NE(r.err.find("could not look up column types in pg_type"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("permission denied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("keep their text"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("s3cret-pw"), std::string::npos) << r.err;
}

TEST_F(CliTypes, MessageContentIsTextOrBase64InAUtf8Database) {
  make_stream();
  // One transaction each, so that the order is that of the statements.
  execute("SELECT pg_logical_emit_message(true, 'bin', '\\xff00fe41'::bytea)");
  execute("SELECT pg_logical_emit_message(false, 'txt', 'h\u00e9llo \U0001F600')");
  execute("SELECT pg_logical_emit_message(false, 'nul', '\\x610062'::bytea)");
  // A commit flushes the WAL: the walsender sends only what is flushed, and a
  // message outside any transaction flushes nothing.
  execute("SELECT pg_logical_emit_message(true, 'end', '')");
  const std::vector<Json> lines = run_to_end();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].at("prefix"), "bin");
  EXPECT_EQ(lines[0]["content_base64"], "/wD+QQ==");
  EXPECT_FALSE(lines[0].contains("content"));
  EXPECT_EQ(lines[1].at("content"), "h\u00e9llo \U0001F600");
  EXPECT_FALSE(lines[1].contains("content_base64"));
  // A message outside any transaction: its LSN is its key, ts when delivered.
  EXPECT_EQ(lines[1].at("transactional"), false);
  EXPECT_TRUE(lines[1].contains("lsn") && lines[1].contains("ts"));
  EXPECT_FALSE(lines[1].contains("commit_lsn") || lines[1].contains("seq"));
  EXPECT_NE(lines[1].at("lsn"), lines[2].at("lsn"));
  EXPECT_EQ(lines[2]["content_base64"], "YQBi");
}

// A database of another encoding, with a publication and a slot of its own;
// dropped (with its slots) at the end.
class OtherEncoding {
 public:
  OtherEncoding(ThrowawayCluster& cluster, std::string name, std::string_view encoding)
      : cluster_(cluster), name_(std::move(name)) {
    cluster_.execute(fmt::format(
        "CREATE DATABASE {} TEMPLATE template0 ENCODING '{}' LC_COLLATE 'C' LC_CTYPE 'C'", name_,
        encoding));
    cluster_.execute("CREATE PUBLICATION pub FOR ALL TABLES", name_);
    cluster_.execute("SELECT pg_create_logical_replication_slot('" + name_ + "', 'pgoutput')",
                     name_);
  }
  ~OtherEncoding() { cluster_.drop_database(name_); }
  OtherEncoding(const OtherEncoding&) = delete;
  OtherEncoding& operator=(const OtherEncoding&) = delete;

  void execute(std::string_view sql) const { cluster_.execute(sql, name_); }
  std::vector<std::string> stream_args(std::initializer_list<std::string> more = {}) const {
    std::vector<std::string> args{"stream", "--conn", cluster_.conninfo(name_),
                                  "--slot", name_,    "--publication",
                                  "pub",    "--quiet"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
  std::string current_wal_lsn() const {
    return cluster_.query("SELECT pg_current_wal_lsn()", name_).at(0).at(0).value_or("");
  }
  std::string confirmed_flush_lsn() const {
    return cluster_
        .query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + name_ +
                   "'",
               name_)
        .at(0)
        .at(0)
        .value_or("");
  }

 private:
  ThrowawayCluster& cluster_;
  std::string name_;
};

TEST_F(CliTypes, MessageContentIsConvertedFromALatin1Database) {
  const OtherEncoding db(cluster(), unique_name("latin"), "LATIN1");
  // Unicode escapes, which the server turns into LATIN1 whatever the
  // session's client encoding.
  db.execute(
      "CREATE TABLE t (id int PRIMARY KEY, s text);"
      "INSERT INTO t VALUES (1, U&'caf\\00e9');"
      "SELECT pg_logical_emit_message(true, U&'pr\\00e9', U&'m\\00e8ssage \\00fc');");
  db.execute("SELECT pg_logical_emit_message(true, 'bin', '\\xff00fe41'::bytea)");
  const std::vector<Json> lines =
      stream_to_end(db.stream_args({"--end-lsn", db.current_wal_lsn()}));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].at("after"), Json::parse(R"({"id":1,"s":"caf\u00e9"})"));
  EXPECT_EQ(lines[1].at("prefix"), "pr\u00e9");
  EXPECT_EQ(lines[1].at("content"), "m\u00e8ssage \u00fc");
  EXPECT_EQ(lines[2]["content_base64"], "/wD+QQ==");  // a NUL: not text in any encoding
}

TEST_F(CliTypes, SqlAsciiBytesAboveAsciiEndTheStreamWithItsEncodingNamed) {
  const OtherEncoding db(cluster(), unique_name("ascii"), "SQL_ASCII");
  db.execute("CREATE TABLE t (id int PRIMARY KEY, s text)");
  const std::string before = db.confirmed_flush_lsn();
  db.execute("INSERT INTO t VALUES (1, E'caf\\xe9')");
  const ProcessResult r = run_vil_cdc(db.stream_args({"--end-lsn", db.current_wal_lsn()}));
  expect_one_line_error(r, 5, {"SQL_ASCII", "UTF8", "ENCODING 'UTF8'", "22021"});
  // Nothing was delivered, nothing confirmed.
  EXPECT_EQ(db.confirmed_flush_lsn(), before);
}

}  // namespace
}  // namespace vil::testing::cli
