// Incremental snapshots while streaming (docs/DESIGN.md §6.9) against a real
// server: what the stream and the chunks deliver, applied in order as a
// consumer would (reads, inserts and updates as upserts by key, deletes as
// deletes), must give exactly the table's content, row for row, while the
// table is written to; requests that cannot be honoured are refused.

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"
#include "vil/cdc/cdc_trigger.hpp"
#include "vil/cdc/snapshot_request.hpp"

namespace vil::cdc::test {
namespace {

using namespace std::chrono_literals;

class IncrementalSnapshotTest : public TriggerTestBase {
 protected:
  void SetUp() override {
    TriggerTestBase::SetUp();
    state_dir_ = std::filesystem::temp_directory_path() /
                 ("vil-incremental-" + std::to_string(::getpid()) + "-" + unique_name("d"));
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(state_dir_, ec);
    TriggerTestBase::TearDown();
  }

  // A slot and publication of `tables` (comma-separated), streamed with
  // chunks of `chunk` rows and its progress in a state file.
  CdcConfig incremental_config(const std::string& tables, uint32_t chunk) {
    CdcConfig config = make_stream(tables);
    config.snapshot_chunk_size = chunk;
    config.snapshot_state = (state_dir_ / (config.slot_name + ".json")).string();
    return config;
  }

  // The keys where two contents differ, with both sides: what a failure shows.
  static std::string difference(const std::map<int, std::string>& got,
                                const std::map<int, std::string>& want) {
    std::string out;
    for (const auto& [id, v] : got) {
      auto it = want.find(id);
      if (it == want.end() || it->second != v) {
        out += std::to_string(id) + ": got '" + v + "', want " +
               (it == want.end() ? "none" : "'" + it->second + "'") + "\n";
      }
    }
    for (const auto& [id, v] : want) {
      if (!got.contains(id)) out += std::to_string(id) + ": got none, want '" + v + "'\n";
    }
    return out;
  }

  static size_t reads_of(const std::vector<Record>& records, const std::string& table) {
    size_t n = 0;
    for (const Record& r : records) n += r.kind == ChangeKind::Read && r.table == table ? 1 : 0;
    return n;
  }

  // The state file's text, empty when there is none.
  static std::string state_text(const CdcConfig& config) {
    std::string text;
    std::FILE* f = std::fopen(config.snapshot_state.c_str(), "r");
    if (f == nullptr) return text;
    char buffer[4096];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
    std::fclose(f);
    return text;
  }

  // Waits until the state file says a request was taken and no table is
  // left to read.
  // Until the state file says no snapshot is left and a request at or after
  // `requested` (request_snapshot's answer: the request message's own LSN,
  // before its commit) was taken: a state written between two requests
  // says "none left" too.
  static bool wait_until_done(const CdcConfig& config, pgoutput::Lsn requested = {},
                              std::chrono::seconds deadline = 120s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      const std::string text = state_text(config);
      const size_t at = text.find("\"last_request_lsn\": \"");
      const auto taken =
          at == std::string::npos
              ? std::nullopt
              : pgoutput::parse_lsn(text.substr(at + 21, text.find('"', at + 21) - (at + 21)));
      if (text.find("\"incremental\": []") != std::string::npos && taken && taken->value != 0 &&
          *taken >= requested) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  // Inserts a row with id -1 and waits until the stream delivered it: every
  // change committed before it was delivered too.
  void sync_on_sentinel(const std::string& table, const CollectingSink& sink) {
    execute("INSERT INTO " + table + " VALUES (-1, 'sentinel')");
    const auto seen = [&] {
      for (const Record& r : sink.records()) {
        if (r.kind == ChangeKind::Insert && r.new_values[0] == "-1") return true;
      }
      return false;
    };
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (!seen() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(seen());
  }

  // Writes to `table` until told to stop: inserts, updates of the value and
  // of the key, deletes, spread over the keys 1..rows.
  void write_concurrently(const std::string& table, int rows, const std::atomic<bool>& stop) {
    for (int i = 0; !stop && i < 400; ++i) {
      const int at = (i * 97) % rows + 1;
      execute("INSERT INTO " + table + " VALUES (" + std::to_string(rows + 1000 + i) + ", 'new " +
              std::to_string(i) + "')");
      execute("UPDATE " + table + " SET v = 'upd " + std::to_string(i) +
              "' WHERE id = " + std::to_string(at));
      execute("UPDATE " + table + " SET id = id + 1000000 WHERE id = " + std::to_string(at + 1));
      execute("DELETE FROM " + table + " WHERE id = " + std::to_string(at + 2));
    }
  }

  std::filesystem::path state_dir_;
};

TEST_F(IncrementalSnapshotTest, ReadsTheTableWhileStreamingAndGivesItsContentExactly) {
  const std::string table = unique_name("inc");
  execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text NOT NULL)");
  execute("INSERT INTO " + table + " SELECT g, 'row ' || g FROM generate_series(1, 20000) g");
  // The slot is created after the rows: only a snapshot can bring them.
  CdcConfig config = incremental_config(table, 1000);
  CollectingSink sink;
  CdcTrigger trigger(config);
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);

  std::atomic<bool> stop_writing{false};
  std::thread writer([&] { write_concurrently(table, 20000, stop_writing); });
  std::this_thread::sleep_for(100ms);
  auto requested = trigger.request_snapshot(std::vector<std::string>{table});
  ASSERT_TRUE(requested) << requested.error().message();
  EXPECT_NE(requested->value, 0u);
  writer.join();
  ASSERT_TRUE(wait_until_done(config)) << state_text(config);
  sync_on_sentinel(table, sink);
  auto result = thread.stop();
  ASSERT_TRUE(result) << result.error().message();

  const std::vector<Record> records = sink.records();
  EXPECT_EQ(difference(apply_by_key(records, "public." + table), id_value_content(table)), "");
  // At most every row once: a row a change won over is not read.
  const size_t reads = reads_of(records, "public." + table);
  EXPECT_GE(reads, 18000u);
  EXPECT_LE(reads, 21000u);
  // Each read's place is unique: its chunk's high watermark and its ordinal.
  std::set<std::pair<uint64_t, uint32_t>> places;
  for (const Record& r : records) {
    if (r.kind != ChangeKind::Read) continue;
    EXPECT_TRUE(places.emplace(r.commit_lsn, r.ordinal).second);
    EXPECT_GT(r.commit_lsn, 0u);
  }
  // The watermarks and the request are not the owner's messages.
  for (const Record& r : records) EXPECT_NE(r.kind, ChangeKind::Message) << r.prefix;
}

TEST_F(IncrementalSnapshotTest, ASecondRequestWhileTheFirstRunsIsReadAfterIt) {
  const std::string first = unique_name("one");
  const std::string second = unique_name("two");
  for (const std::string& t : {first, second}) {
    execute("CREATE TABLE " + t + " (id int PRIMARY KEY, v text NOT NULL)");
    execute("INSERT INTO " + t + " SELECT g, 'r' || g FROM generate_series(1, 3000) g");
  }
  CdcConfig config = incremental_config(first + ", " + second, 500);
  CollectingSink sink;
  CdcTrigger trigger(config);
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_TRUE(trigger.request_snapshot(std::vector<std::string>{first}));
  // While the first runs: its first chunk was delivered.
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (reads_of(sink.records(), "public." + first) == 0 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  // Deleted before it is asked for: never read (a delete between a chunk's
  // watermarks may or may not find its row in the chunk).
  execute("DELETE FROM " + second + " WHERE id <= 10");
  const auto second_request =
      trigger.request_snapshot(std::vector<std::string>{"public." + second});
  ASSERT_TRUE(second_request);
  ASSERT_TRUE(wait_until_done(config, second_request.value_or(pgoutput::Lsn{})))
      << state_text(config);
  sync_on_sentinel(first, sink);
  auto result = thread.stop();
  ASSERT_TRUE(result) << result.error().message();

  const std::vector<Record> records = sink.records();
  EXPECT_EQ(apply_by_key(records, "public." + first), id_value_content(first));
  EXPECT_EQ(apply_by_key(records, "public." + second), id_value_content(second));
  EXPECT_EQ(reads_of(records, "public." + first), 3000u);
  EXPECT_EQ(reads_of(records, "public." + second), 2990u);
  // Every read of the first table comes before the first of the second.
  size_t last_first = 0;
  size_t first_second = records.size();
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].kind != ChangeKind::Read) continue;
    if (records[i].table == "public." + first) last_first = i;
    if (records[i].table == "public." + second) first_second = std::min(first_second, i);
  }
  EXPECT_LT(last_first, first_second);
}

TEST_F(IncrementalSnapshotTest, ProgressSurvivesARestartAndOnlyTheChunkInFlightIsReadAgain) {
  const std::string table = unique_name("resume");
  execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text NOT NULL)");
  execute("INSERT INTO " + table + " SELECT g, 'r' || g FROM generate_series(1, 10000) g");
  CdcConfig config = incremental_config(table, 1000);
  std::vector<Record> all;
  {
    CollectingSink sink;
    CdcTrigger trigger(config);
    trigger.set_sink(&sink);
    // Stops in the middle of the third chunk.
    size_t reads = 0;
    sink.hook = [&](const Record& r) {
      if (r.kind == ChangeKind::Read && ++reads == 2500) (void)trigger.stop();
    };
    TriggerThread thread(trigger);
    ASSERT_TRUE(trigger.request_snapshot(std::vector<std::string>{table}));
    auto done = thread.join(60s);
    ASSERT_TRUE(done.has_value());
    ASSERT_TRUE(*done) << done->error().message();
    all = sink.records();
  }
  EXPECT_NE(state_text(config).find("\"after\": [\n        \"2000\"\n      ]"), std::string::npos)
      << state_text(config);
  execute("UPDATE " + table + " SET v = 'changed' WHERE id IN (1, 5000, 9999)");
  {
    CollectingSink sink;
    CdcTrigger trigger(config);
    trigger.set_sink(&sink);
    TriggerThread thread(trigger);
    ASSERT_TRUE(wait_until_done(config)) << state_text(config);
    sync_on_sentinel(table, sink);
    auto result = thread.stop();
    ASSERT_TRUE(result) << result.error().message();
    const auto second = sink.records();
    all.insert(all.end(), second.begin(), second.end());
    // The second run read from the third chunk on: rows 2001..10000.
    EXPECT_EQ(reads_of(second, "public." + table), 8000u);
  }
  EXPECT_EQ(apply_by_key(all, "public." + table), id_value_content(table));
  // At most the chunk in flight was read twice.
  EXPECT_LE(reads_of(all, "public." + table), 10000u + 1000u);
}

TEST_F(IncrementalSnapshotTest, WithMessagesOffRequestsAreStillTakenAndNoMessageIsDelivered) {
  const std::string table = unique_name("quiet");
  execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text NOT NULL)");
  execute("INSERT INTO " + table + " VALUES (1, 'a'), (2, 'b')");
  CdcConfig config = incremental_config(table, 10);
  config.messages = false;
  CollectingSink sink;
  CdcTrigger trigger(config);
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  execute("SELECT pg_logical_emit_message(true, 'app', 'hello')");
  ASSERT_TRUE(trigger.request_snapshot(std::vector<std::string>{table}));
  ASSERT_TRUE(wait_until_done(config)) << state_text(config);
  sync_on_sentinel(table, sink);
  auto result = thread.stop();
  ASSERT_TRUE(result) << result.error().message();
  const std::vector<Record> records = sink.records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].kind, ChangeKind::Read);
  EXPECT_EQ(records[0].new_values, (Values{"1", "a"}));
  EXPECT_EQ(records[1].kind, ChangeKind::Read);
  EXPECT_EQ(records[1].new_values, (Values{"2", "b"}));
  EXPECT_EQ(records[2].kind, ChangeKind::Insert);
  // Only the sentinel's transaction reached on_commit: not the message's
  // (no message is delivered), not the request's, not the watermarks'.
  EXPECT_EQ(sink.commits(), 1u);
}

TEST_F(IncrementalSnapshotTest, RequestsThatCannotBeHonouredAreRefusedNamingTheTable) {
  const std::string keyed = unique_name("keyed");
  const std::string outside = unique_name("outside");
  const std::string keyless = unique_name("keyless");
  execute("CREATE TABLE " + keyed + " (id int PRIMARY KEY, v text)");
  execute("CREATE TABLE " + outside + " (id int PRIMARY KEY, v text)");
  execute("CREATE TABLE " + keyless + " (id int, v text)");
  const std::string publication = unique_name("pub");
  execute("CREATE PUBLICATION " + publication + " FOR TABLE " + keyed + ", " + keyless +
          " WITH (publish = 'insert')");
  const std::string slot = unique_name("slot");
  execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
  const auto refused = [&](const std::vector<std::string>& tables) {
    auto r = request_snapshot(conninfo(), publication, tables);
    EXPECT_FALSE(r);
    return r ? std::string() : r.error().message();
  };
  EXPECT_EQ(refused({keyed, outside}), "the snapshot request was refused: table \"" + outside +
                                           "\" is not in publication \"" + publication + "\"");
  EXPECT_EQ(refused({keyless}), "the snapshot request was refused: table public." + keyless +
                                    " has neither a primary key nor a replica identity index");
  EXPECT_EQ(refused({}), "the snapshot request was refused: it names no table");
  auto missing =
      request_snapshot(conninfo(), "no_such_publication", std::vector<std::string>{keyed});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().get<PublicationNotFound>(), nullptr);
  EXPECT_EQ(missing.error().message(),
            "the snapshot request was refused: publication \"no_such_publication\" does not exist");
  // Nothing was written: no request message is in the WAL.
  EXPECT_EQ(query_value("SELECT count(*) FROM pg_logical_slot_peek_binary_changes('" + slot +
                        "', NULL, NULL, 'proto_version', '1', 'publication_names', '" +
                        publication + "', 'messages', 'true')"),
            "0");
  execute("SELECT pg_drop_replication_slot('" + slot + "')");
}

}  // namespace
}  // namespace vil::cdc::test
