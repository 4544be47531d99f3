// `vil-cdc stream` writes every type of docs/DESIGN.md §4.3 as the checked-in golden
// file says, for REPLICA IDENTITY FULL and DEFAULT, with unchanged TOAST.
// VIL_UPDATE_GOLDEN=1 rewrites the golden file from this run instead.

#include <cstdlib>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"

namespace vil::testing::cli {
namespace {

const std::filesystem::path kGolden =
    std::filesystem::path(VIL_SOURCE_DIR) / "tests/cli/golden/all_types.jsonl";

std::string table_sql(std::string_view name) {
  return fmt::format(R"sql(
CREATE TABLE {0} (
  id int4 PRIMARY KEY,
  c_bool bool, c_int2 int2, c_int4 int4, c_int8 int8, c_oid oid,
  c_float4 float4, c_float8 float8, c_numeric numeric,
  c_text text, c_varchar varchar(20), c_bpchar char(5), c_bytea bytea, c_uuid uuid,
  c_json json, c_jsonb jsonb,
  c_date date, c_time time, c_timetz timetz, c_timestamp timestamp,
  c_timestamptz timestamptz, c_interval interval,
  c_enum mood, c_int4_array int4[], c_text_array text[],
  c_big text);
)sql",
                     name);
}

// Five rows: every type with its awkward values, a row of NULLs, and the
// float specials spread over the rest. c_big is >2 kB of md5 hex, which pglz
// cannot shrink by the quarter it needs, so it is stored out of line.
std::string insert_sql(std::string_view table) {
  return fmt::format(R"sql(
INSERT INTO {0} VALUES
 (1, true, -32768, 2147483647, -9223372036854775808, 4294967295,
  'NaN', 'Infinity', 12345678901234567890.123456789,
  E'quote " apostrophe '' backslash \\ newline \n tab \t unicode \u00e9 \u65e5\u672c \U0001F600',
  'varchar value', 'ab', '\xdeadbeef00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{{"b": [1, 2.5, null], "a": "x\"y"}}', '{{"b": [1, 2.5, null], "a": {{"k": true}}}}',
  '2024-02-29', '23:59:59.999999', '12:34:56.789+05:30', '2024-01-02 03:04:05.123456',
  '2024-01-02 03:04:05.123456+02', '1 year 2 mons 3 days 04:05:06.789',
  'happy', '{{{{1,NULL,3}},{{-4,5,6}}}}',
  ARRAY[ARRAY['a b', 'with "quote"', 'back\slash'], ARRAY[NULL, 'NULL', 'comma,here']],
  (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 100) i)),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, false, 0, -1, 0, 0, '-Infinity', 'NaN', 'NaN', '', '', '', '\x', '00000000-0000-0000-0000-000000000000',
  '[]', '"just a string"', 'infinity', '00:00:00', '00:00:00-12', '-infinity', 'infinity',
  '-1 days +02:03:00', 'sad', '{{}}', '{{"",""}}', 'short'),
 (4, NULL, NULL, NULL, NULL, NULL, 'Infinity', '-Infinity', -0.001, NULL, NULL, NULL, NULL, NULL,
  'null', '{{}}', '0044-03-15 BC', NULL, NULL, '1999-12-31 23:59:59', '1970-01-01 00:00:00+00',
  '0 seconds', 'ok', '{{NULL}}', '{{NULL}}', NULL),
 (5, NULL, 7, NULL, NULL, NULL, 0.1, 2.5e-300, 100, NULL, NULL, NULL, NULL, NULL,
  NULL, '[1, "two", 3.5]', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{{7}}', '{{x}}', NULL);
)sql",
                     table);
}

// The fields that change from run to run, checked for form and then replaced.
Json normalise(Json line) {
  static const std::regex kLsn("^[0-9A-F]{1,8}/[0-9A-F]{1,8}$");
  static const std::regex kTime(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$)");
  for (const char* key : {"commit_lsn", "lsn"}) {
    if (!line.contains(key)) continue;
    EXPECT_TRUE(line[key].is_string() && std::regex_match(line[key].get<std::string>(), kLsn))
        << key << " is not an X/Y LSN: " << line.dump();
    line[key] = fmt::format("<{}>", key);
  }
  if (line.contains("xid")) {
    EXPECT_TRUE(line["xid"].is_number_unsigned()) << line.dump();
    line["xid"] = "<xid>";
  }
  if (line.contains("commit_ts")) {
    EXPECT_TRUE(line["commit_ts"].is_string() &&
                std::regex_match(line["commit_ts"].get<std::string>(), kTime))
        << "commit_ts is not UTC with microseconds: " << line.dump();
    line["commit_ts"] = "<commit_ts>";
  }
  return line;
}

// Where two long lines part, with some context around it.
std::string difference(const std::string& expected, const std::string& actual) {
  size_t at = 0;
  while (at < expected.size() && at < actual.size() && expected[at] == actual[at]) ++at;
  const size_t from = at > 80 ? at - 80 : 0;
  return fmt::format(" at byte {}:\n  golden: ...{}\n  actual: ...{}", at,
                     expected.substr(from, 160), actual.substr(from, 160));
}

class CliGolden : public CliTest {};

TEST_F(CliGolden, AllTypesMatchTheGoldenFile) {
  execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')");
  execute(table_sql("all_types_full") + "ALTER TABLE all_types_full REPLICA IDENTITY FULL;");
  execute(table_sql("all_types_default"));
  make_stream();

  // Five transactions; each statement list runs as one.
  execute(insert_sql("all_types_full") + insert_sql("all_types_default"));
  ASSERT_EQ(query_value("SELECT count(*) FROM all_types_default WHERE id = 1 AND "
                        "pg_column_size(c_big) > 2000 AND length(c_big) = 3200"),
            "1")
      << "c_big should be stored uncompressed, out of line";
  execute(
      "UPDATE all_types_full SET c_int4 = 7, c_text = 'changed' WHERE id = 1;"
      "UPDATE all_types_default SET c_int4 = 7, c_text = 'changed' WHERE id = 1;");
  execute(
      "UPDATE all_types_full SET id = 30 WHERE id = 3;"
      "UPDATE all_types_default SET id = 30 WHERE id = 3;");
  // One row a statement: the order of `id IN (1, 2)` is the plan's, and
  // PostgreSQL 18 deletes them in another order than 15.
  execute(
      "DELETE FROM all_types_full WHERE id = 2; DELETE FROM all_types_full WHERE id = 1;"
      "DELETE FROM all_types_default WHERE id = 2; DELETE FROM all_types_default WHERE id = 1;");
  execute(
      "SELECT pg_logical_emit_message(true, 'golden', E'a message\\nof two lines');"
      "TRUNCATE all_types_default, all_types_full;");
  const std::string end = current_wal_lsn();

  const ProcessResult r = run_vil_cdc(stream_args({"--end-lsn", end}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.err, "");
  const std::vector<Json> lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), lines_of(r.out).size());

  // What the placeholders hide, checked here: one commit LSN and xid per
  // transaction, seq counting from 0 within it, commits in increasing order.
  uint64_t last_commit = 0;
  std::set<uint64_t> xids;
  uint64_t expected_seq = 0;
  for (const Json& line : lines) {
    if (!line.contains("commit_lsn")) continue;
    const uint64_t commit = lsn_value(line["commit_lsn"].get<std::string>());
    if (commit != last_commit) {
      EXPECT_GT(commit, last_commit) << "commit order: " << line.dump();
      EXPECT_TRUE(xids.insert(line["xid"].get<uint64_t>()).second) << "xid reused";
      last_commit = commit;
      expected_seq = 0;
    }
    EXPECT_EQ(line["seq"], expected_seq++) << line.dump();
    EXPECT_LE(lsn_value(line["lsn"].get<std::string>()), commit) << line.dump();
  }
  EXPECT_EQ(xids.size(), 5u) << "five transactions";

  // The TOAST rules, asserted apart from the golden file so that regenerating
  // it cannot bless a regression here.
  const Json* full_update = nullptr;
  const Json* default_update = nullptr;
  for (const Json& line : lines) {
    if (line.value("op", "") != "update" || line["after"]["id"] != 1) continue;
    (line["table"] == "all_types_full" ? full_update : default_update) = &line;
  }
  ASSERT_NE(full_update, nullptr);
  ASSERT_NE(default_update, nullptr);
  const std::string big =
      query_value("SELECT string_agg(md5(i::text), '') FROM generate_series(1, 100) i");
  EXPECT_EQ((*full_update)["after"]["c_big"], big) << "FULL: filled from the old row";
  EXPECT_FALSE(full_update->contains("unchanged_toast"));
  EXPECT_EQ((*full_update)["before"]["c_big"], big);
  EXPECT_FALSE((*default_update)["after"].contains("c_big"));
  EXPECT_EQ((*default_update)["unchanged_toast"], Json::array({"c_big"}));
  EXPECT_TRUE((*default_update)["before"].is_null()) << "the key did not change";

  std::string normalised;
  for (const Json& line : lines) normalised += normalise(line).dump() + "\n";

  const char* update = std::getenv("VIL_UPDATE_GOLDEN");
  if (update != nullptr && std::string_view(update) == "1") {
    write_text_file(kGolden, normalised);
    GTEST_SKIP() << "VIL_UPDATE_GOLDEN=1: wrote " << kGolden << " (" << lines.size() << " lines)";
  }
  const std::vector<std::string> expected = lines_of(read_text_file(kGolden));
  const std::vector<std::string> actual = lines_of(normalised);
  ASSERT_FALSE(expected.empty()) << "no golden file at " << kGolden
                                 << "; make one with VIL_UPDATE_GOLDEN=1";
  for (size_t i = 0; i < std::min(expected.size(), actual.size()); ++i) {
    EXPECT_TRUE(actual[i] == expected[i])
        << "line " << i + 1 << " differs from " << kGolden << difference(expected[i], actual[i]);
  }
  EXPECT_EQ(actual.size(), expected.size()) << "line count differs from " << kGolden;
}

}  // namespace
}  // namespace vil::testing::cli
