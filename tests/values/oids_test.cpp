#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "vil/values/oids.hpp"
#include "vil/values/type_info.hpp"

namespace vil::values {
namespace {

struct Known {
  uint32_t oid;
  std::string_view name;
  uint32_t element;  // 0 for scalars
};

// The brief's list, each checked by hand against PostgreSQL 15's pg_type.
constexpr Known kTypes[] = {
    {16, "bool", 0},
    {17, "bytea", 0},
    {18, "char", 0},
    {19, "name", 0},
    {20, "int8", 0},
    {21, "int2", 0},
    {23, "int4", 0},
    {25, "text", 0},
    {26, "oid", 0},
    {114, "json", 0},
    {142, "xml", 0},
    {700, "float4", 0},
    {701, "float8", 0},
    {1042, "bpchar", 0},
    {1043, "varchar", 0},
    {1082, "date", 0},
    {1083, "time", 0},
    {1114, "timestamp", 0},
    {1184, "timestamptz", 0},
    {1186, "interval", 0},
    {1266, "timetz", 0},
    {1700, "numeric", 0},
    {2950, "uuid", 0},
    {3802, "jsonb", 0},
    {1000, "_bool", 16},
    {1005, "_int2", 21},
    {1007, "_int4", 23},
    {1009, "_text", 25},
    {1016, "_int8", 20},
    {1021, "_float4", 700},
    {1022, "_float8", 701},
    {1028, "_oid", 26},
    {1014, "_bpchar", 1042},
    {1015, "_varchar", 1043},
    {1182, "_date", 1082},
    {1183, "_time", 1083},
    {1115, "_timestamp", 1114},
    {1185, "_timestamptz", 1184},
    {1187, "_interval", 1186},
    {1231, "_numeric", 1700},
    {1270, "_timetz", 1266},
    {2951, "_uuid", 2950},
    {199, "_json", 114},
    {3807, "_jsonb", 3802},
    {1001, "_bytea", 17},
    {1003, "_name", 19},
    {1002, "_char", 18},
    {143, "_xml", 142},
};

TEST(Oids, BuiltinTypesHaveTheirNamesAndElements) {
  for (const auto& t : kTypes) {
    const TypeInfo info = builtin_type(t.oid);
    EXPECT_EQ(info.oid, t.oid);
    EXPECT_EQ(info.name, t.name) << t.oid;
    EXPECT_EQ(element_oid(t.oid), t.element) << t.name;
    if (t.element != 0) {
      EXPECT_EQ(info.kind, TypeKind::Array) << t.name;
      EXPECT_EQ(info.element_oid, t.element) << t.name;
      EXPECT_EQ(info.element_kind, builtin_type(t.element).kind) << t.name;
      EXPECT_EQ(array_oid(t.element), t.oid) << t.name;
    } else {
      EXPECT_NE(info.kind, TypeKind::Array) << t.name;
      EXPECT_NE(info.kind, TypeKind::Unknown) << t.name;
    }
  }
}

TEST(Oids, KindsOfScalars) {
  EXPECT_EQ(builtin_type(oid::kBpchar).kind, TypeKind::Text);
  EXPECT_EQ(builtin_type(oid::kXml).kind, TypeKind::Text);
  EXPECT_EQ(builtin_type(oid::kChar).kind, TypeKind::Text);
  EXPECT_EQ(builtin_type(oid::kOid).kind, TypeKind::Oid);
  EXPECT_EQ(builtin_type(oid::kJsonb).kind, TypeKind::Jsonb);
  EXPECT_EQ(builtin_type(600).kind, TypeKind::Unknown);  // point: its text
  EXPECT_EQ(builtin_type(600).name, "point");
  EXPECT_TRUE(is_builtin_type(600));
  EXPECT_EQ(builtin_type(0).kind, TypeKind::Unknown);
  EXPECT_FALSE(is_builtin_type(0));
  EXPECT_FALSE(is_builtin_type(16384));
  EXPECT_EQ(element_oid(oid::kInt4), 0u);
  EXPECT_EQ(array_oid(600), 1017u);
}

// Arrays of every built-in element type are arrays, whatever their elements' kind.
TEST(Oids, EveryBuiltinArrayIsAnArrayWithItsDelimiter) {
  EXPECT_EQ(std::size(kBuiltinArrays), 76u);
  for (const BuiltinArray& a : kBuiltinArrays) {
    const TypeInfo info = builtin_type(a.array_oid);
    EXPECT_EQ(info.kind, TypeKind::Array) << a.array_name;
    EXPECT_EQ(info.element_oid, a.element_oid) << a.array_name;
    EXPECT_EQ(info.name, a.array_name);
    EXPECT_EQ(info.delimiter, a.element_name == "box" ? ';' : ',') << a.array_name;
    EXPECT_EQ(builtin_type(a.element_oid).name, a.element_name);
    EXPECT_TRUE(is_builtin_type(a.element_oid)) << a.element_name;
  }
  const TypeInfo ranges = builtin_type(3927);  // _int8range
  EXPECT_EQ(ranges.element_kind, TypeKind::Unknown);
  EXPECT_EQ(ranges.element_oid, 3926u);
}

// Cross-check with the catalog of the PostgreSQL installed here, when there is one.
TEST(Oids, MatchTheInstalledPostgresCatalog) {
  std::ifstream bki("/usr/share/postgresql/15/postgres.bki");
  if (!bki) GTEST_SKIP() << "no postgres.bki installed";
  // "insert ( oid typname typnamespace typowner typlen typbyval typtype typcategory
  //   typispreferred typisdefined typdelim typrelid typsubscript typelem typarray ..."
  std::map<std::string, std::pair<uint32_t, uint32_t>> catalog;  // name -> (oid, typelem)
  std::map<std::string, char> delimiters;                        // name -> typdelim
  std::string line;
  bool in_pg_type = false;
  while (std::getline(bki, line)) {
    if (line.rfind("create pg_type", 0) == 0)
      in_pg_type = true;
    else if (line.rfind("create ", 0) == 0)
      in_pg_type = false;
    if (!in_pg_type || line.rfind("insert ( ", 0) != 0) continue;
    std::istringstream in(line.substr(9));
    std::vector<std::string> f;
    for (std::string w; f.size() < 15 && in >> w;) f.push_back(w);
    if (f.size() < 15) continue;
    catalog[f[1]] = {static_cast<uint32_t>(std::stoul(f[0])),
                     f[13] == "-" ? 0u : static_cast<uint32_t>(std::stoul(f[13]))};
    delimiters[f[1]] = f[10].size() == 3 ? f[10][1] : '?';  // quoted: ','
  }
  ASSERT_GT(catalog.size(), 100u);
  for (const auto& t : kTypes) {
    const auto it = catalog.find(std::string(t.name));
    ASSERT_NE(it, catalog.end()) << t.name;
    EXPECT_EQ(it->second.first, t.oid) << t.name;
    if (t.element != 0) {
      EXPECT_EQ(it->second.second, t.element) << t.name;
    }
  }
  for (const BuiltinArray& a : kBuiltinArrays) {
    const auto array = catalog.find(std::string(a.array_name));
    const auto element = catalog.find(std::string(a.element_name));
    ASSERT_NE(array, catalog.end()) << a.array_name;
    ASSERT_NE(element, catalog.end()) << a.element_name;
    EXPECT_EQ(array->second.first, a.array_oid) << a.array_name;
    EXPECT_EQ(array->second.second, a.element_oid) << a.array_name;
    EXPECT_EQ(element->second.first, a.element_oid) << a.element_name;
    EXPECT_EQ(delimiters[std::string(a.element_name)], a.delimiter) << a.element_name;
  }
}

TEST(TypeCatalog, RegisteredEnumKeepsItsText) {
  TypeCatalog c;
  c.add_type(16384, "public", "mood");
  const TypeInfo t = c.find(16384);
  EXPECT_EQ(t.kind, TypeKind::Unknown);
  EXPECT_EQ(t.name, "mood");
  EXPECT_EQ(c.find(99999).kind, TypeKind::Unknown);
  EXPECT_EQ(c.find(99999).name, "");
}

TEST(TypeCatalog, ArrayTypeByNameFindsItsElementEvenWhenRegisteredLater) {
  TypeCatalog c;
  c.add_type(16390, "public", "_mood");
  TypeInfo t = c.find(16390);
  EXPECT_EQ(t.kind, TypeKind::Array);
  EXPECT_EQ(t.element_kind, TypeKind::Unknown);
  EXPECT_EQ(t.element_oid, 0u);
  c.add_type(16384, "public", "mood");
  t = c.find(16390);
  EXPECT_EQ(t.element_oid, 16384u);
  EXPECT_EQ(t.element_kind, TypeKind::Unknown);
  // Another schema's "mood" is not this array's element.
  c.add_type(16400, "other", "_mood");
  EXPECT_EQ(c.find(16400).element_oid, 0u);
}

TEST(TypeCatalog, AliasOfABuiltinOrAnArray) {
  TypeCatalog c;
  c.add_alias(20000, "positive_int", oid::kInt4);
  TypeInfo t = c.find(20000);
  EXPECT_EQ(t.kind, TypeKind::Int4);
  EXPECT_EQ(t.oid, 20000u);
  EXPECT_EQ(t.name, "positive_int");
  c.add_alias(20001, "int_list", oid::kInt4Array);
  t = c.find(20001);
  EXPECT_EQ(t.kind, TypeKind::Array);
  EXPECT_EQ(t.element_kind, TypeKind::Int4);
  c.add_array(20002, "_positive_int", 20000);
  t = c.find(20002);
  EXPECT_EQ(t.kind, TypeKind::Array);
  EXPECT_EQ(t.element_kind, TypeKind::Int4);
  EXPECT_EQ(t.element_oid, 20000u);
  // A cycle of aliases ends as unknown instead of hanging.
  c.add_alias(20003, "a", 20004);
  c.add_alias(20004, "b", 20003);
  EXPECT_EQ(c.find(20003).kind, TypeKind::Unknown);
  // Built-in OIDs cannot be redefined.
  c.add_alias(oid::kInt4, "nope", oid::kText);
  EXPECT_EQ(c.find(oid::kInt4).kind, TypeKind::Int4);
  EXPECT_EQ(c.registered_count(), 5u);
}

}  // namespace
}  // namespace vil::values

namespace vil::values {
namespace {

// A server's catalog in miniature: answers from a table, counts questions.
class FakeServer final : public ServerCatalog {
 public:
  std::vector<TypeDescription> known;
  std::vector<std::vector<uint32_t>> questions;
  bool down = false;

  std::optional<std::vector<TypeDescription>> describe_types(
      std::span<const uint32_t> oids) override {
    if (down) return std::nullopt;
    questions.emplace_back(oids.begin(), oids.end());
    std::vector<TypeDescription> out;
    for (const TypeDescription& d : known) {
      if (std::find(oids.begin(), oids.end(), d.oid) != oids.end()) out.push_back(d);
    }
    return out;
  }
  std::optional<std::string> database_encoding() override { return "UTF8"; }
};

TEST(TypeCatalog, ResolveFollowsChainsAndAsksOncePerType) {
  FakeServer server;
  server.known = {
      {30000, "public", "d3", 30001, 0, ','},  // d3 -> d2 -> d1 -> int8
      {30001, "public", "d2", 30002, 0, ','},   {30002, "public", "d1", oid::kInt8, 0, ','},
      {30010, "s", "_d3", 0, 30000, ','},       {30020, "public", "semi", 0, 0, ';'},
      {30021, "public", "_semi", 0, 30020, ';'}};
  TypeCatalog c;
  const std::vector<uint32_t> columns = {30010, oid::kInt4, 30021, 30099, 30010};
  EXPECT_EQ(c.resolve(columns, server), 6u);
  // Built-ins are never asked; duplicates once; each round one link further.
  ASSERT_EQ(server.questions.size(), 4u);
  EXPECT_EQ(server.questions[0], (std::vector<uint32_t>{30010, 30021, 30099}));
  EXPECT_EQ(server.questions[1], (std::vector<uint32_t>{30000, 30020}));
  EXPECT_EQ(server.questions[2], (std::vector<uint32_t>{30001}));
  EXPECT_EQ(server.questions[3], (std::vector<uint32_t>{30002}));
  EXPECT_EQ(c.find(30000).kind, TypeKind::Int8);
  EXPECT_EQ(c.find(30000).name, "d3");
  const TypeInfo array = c.find(30010);
  EXPECT_EQ(array.kind, TypeKind::Array);
  EXPECT_EQ(array.element_kind, TypeKind::Int8);
  EXPECT_EQ(array.element_oid, 30000u);
  EXPECT_EQ(c.find(30021).delimiter, ';');
  EXPECT_EQ(c.find(30099).kind, TypeKind::Unknown);  // the server does not know it
  // Asked about once, known or not.
  EXPECT_EQ(c.resolve(columns, server), 0u);
  EXPECT_EQ(server.questions.size(), 4u);
}

TEST(TypeCatalog, UnansweredTypesAreAskedAgain) {
  FakeServer server;
  server.known = {{30002, "public", "d1", oid::kInt8, 0, ','}};
  server.down = true;
  TypeCatalog c;
  const std::vector<uint32_t> columns = {30002};
  EXPECT_EQ(c.resolve(columns, server), 0u);
  EXPECT_EQ(c.find(30002).kind, TypeKind::Unknown);
  server.down = false;
  EXPECT_EQ(c.resolve(columns, server), 1u);
  EXPECT_EQ(c.find(30002).kind, TypeKind::Int8);
}

TEST(TypeCatalog, ADescriptionOutlivesATypeMessageOfTheSameNameButNotARename) {
  FakeServer server;
  server.known = {{30002, "public", "d1", oid::kInt8, 0, ','}};
  TypeCatalog c;
  c.add_type(30002, "public", "d1");
  const std::vector<uint32_t> columns = {30002};
  EXPECT_EQ(c.resolve(columns, server), 1u);
  c.add_type(30002, "public", "d1");  // sent again after a reconnect
  EXPECT_EQ(c.find(30002).kind, TypeKind::Int8);
  EXPECT_EQ(c.resolve(columns, server), 0u);
  c.add_type(30002, "public", "renamed");  // what the server said may be stale
  EXPECT_EQ(c.find(30002).kind, TypeKind::Unknown);
  EXPECT_EQ(c.resolve(columns, server), 1u);
  EXPECT_EQ(c.find(30002).kind, TypeKind::Int8);
}

}  // namespace
}  // namespace vil::values
