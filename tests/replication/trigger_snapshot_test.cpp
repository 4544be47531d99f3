// Snapshots (docs/DESIGN.md §6.8) against a real server: the rows read, and
// the stream after them, applied in order as a consumer would (reads,
// inserts and updates as upserts by key, deletes as deletes), must give
// exactly the table's content, row for row, also while it is written to.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cdc/snapshot_reader.hpp"
#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"
#include "vil/cdc/cdc_trigger.hpp"
#include "vil/pgoutput/byte_order.hpp"

namespace vil::cdc::test {
namespace {

using namespace std::chrono_literals;

class SnapshotTest : public TriggerTestBase {
 protected:
  // A config whose slot does not exist yet, for an initial snapshot.
  CdcConfig initial_config(const std::string& publication, uint32_t workers) {
    CdcConfig config;
    config.conn_string = conninfo();
    config.slot_name = unique_name("slot");
    config.publication = publication;
    config.create_slot = true;
    config.snapshot = SnapshotMode::Initial;
    config.snapshot_workers = workers;
    config.status_interval = 200ms;
    return config;
  }

  static size_t count(const std::vector<Record>& records, ChangeKind kind) {
    size_t n = 0;
    for (const Record& r : records) n += r.kind == kind ? 1 : 0;
    return n;
  }
};

TEST_F(SnapshotTest, InitialSnapshotThenTheStreamGiveTheTableExactlyUnderConcurrentWrites) {
  for (uint32_t workers : {1u, 3u}) {
    SCOPED_TRACE(workers);
    const std::string table = unique_name("snap");
    const std::string publication = unique_name("pub");
    execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text NOT NULL)");
    execute("INSERT INTO " + table + " SELECT g, 'row ' || g FROM generate_series(1, 20000) AS g");
    execute("CREATE PUBLICATION " + publication + " FOR TABLE " + table);
    CdcConfig config = initial_config(publication, workers);

    // Writes before, during and after the snapshot: inserts, updates that
    // change the key too, deletes.
    std::atomic<bool> writing{true};
    std::thread writer([&] {
      for (int i = 0; i < 200; ++i) {
        execute("INSERT INTO " + table + " VALUES (" + std::to_string(30000 + i) + ", 'new')");
        execute("UPDATE " + table + " SET v = 'upd " + std::to_string(i) +
                "' WHERE id = " + std::to_string(i * 50 + 1));
        execute("UPDATE " + table +
                " SET id = id + 100000 WHERE id = " + std::to_string(i * 50 + 2));
        execute("DELETE FROM " + table + " WHERE id = " + std::to_string(i * 50 + 3));
      }
      writing = false;
    });
    CollectingSink sink;
    CdcTrigger trigger(config);
    trigger.set_sink(&sink);
    TriggerThread thread(trigger);
    writer.join();
    ASSERT_FALSE(writing);
    execute("INSERT INTO " + table + " VALUES (-1, 'sentinel')");
    const auto sentinel_seen = [&] {
      for (const Record& r : sink.records()) {
        if (r.kind == ChangeKind::Insert && r.new_values[0] == "-1") return true;
      }
      return false;
    };
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (!sentinel_seen() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(sentinel_seen());
    auto result = thread.stop();  // stops and joins
    ASSERT_TRUE(result) << result.error().message();

    const std::vector<Record> records = sink.records();
    EXPECT_EQ(apply_by_key(records, "public." + table), id_value_content(table));
    // Every read comes before the first streamed change.
    const size_t reads = count(records, ChangeKind::Read);
    EXPECT_GE(reads, 19000u);
    EXPECT_LE(reads, 20200u);
    for (size_t i = 0; i < reads; ++i) ASSERT_EQ(records[i].kind, ChangeKind::Read) << i;
    // Each read's place is unique: the consistent point and its ordinal.
    for (size_t i = 0; i < reads; ++i) {
      EXPECT_EQ(records[i].ordinal, i);
      EXPECT_EQ(records[i].commit_lsn, records[0].commit_lsn);
    }
    EXPECT_NE(records[0].commit_lsn, 0u);
    // The slot is permanent, and the temporary one that exported the
    // snapshot is gone.
    EXPECT_EQ(query_value("SELECT temporary FROM pg_replication_slots WHERE slot_name = '" +
                          config.slot_name + "'"),
              "f");
    EXPECT_EQ(query_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE '" +
                          config.slot_name + "\\_snapshot'"),
              "0");
  }
}

TEST_F(SnapshotTest, ATableWithoutAKeyWrittenDuringTheSnapshotComesWholeAndOnce) {
  const std::string table = unique_name("loose");
  const std::string publication = unique_name("pub");
  execute("CREATE TABLE " + table + " (v text NOT NULL)");
  execute("INSERT INTO " + table + " SELECT 'old ' || (g % 100) FROM generate_series(1, 20000) g");
  execute("CREATE PUBLICATION " + publication + " FOR TABLE " + table +
          " WITH (publish = 'insert')");
  CdcConfig config = initial_config(publication, 2);
  std::thread writer([&] {
    for (int i = 0; i < 300; ++i) {
      execute("INSERT INTO " + table + " VALUES ('new " + std::to_string(i % 7) + "')");
    }
  });
  CollectingSink sink;
  CdcTrigger trigger(config);
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  writer.join();
  execute("INSERT INTO " + table + " VALUES ('sentinel')");
  const auto seen = [&] {
    for (const Record& r : sink.records()) {
      if (r.kind == ChangeKind::Insert && r.new_values[0] == "sentinel") return true;
    }
    return false;
  };
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (!seen() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(seen());
  auto result = thread.stop();
  ASSERT_TRUE(result) << result.error().message();
  // As a multiset: every row once, read or inserted, none twice.
  std::multiset<std::string> delivered;
  for (const Record& r : sink.records()) {
    if (r.kind == ChangeKind::Read || r.kind == ChangeKind::Insert)
      delivered.insert(r.new_values[0]);
  }
  std::multiset<std::string> want;
  for (const auto& row : query("SELECT v FROM " + table)) want.insert(*row[0]);
  EXPECT_EQ(delivered.size(), want.size());
  EXPECT_TRUE(delivered == want);
}

// A sink that fails on its Nth change, as a full disk would.
class FailingSink : public CollectingSink {
 public:
  explicit FailingSink(size_t fail_at) : fail_at_(fail_at) {}
  void on_change(const Change& change) override {
    if (++seen_ == fail_at_) throw std::runtime_error("disk full");
    CollectingSink::on_change(change);
  }

 private:
  size_t fail_at_;
  size_t seen_ = 0;
};

TEST_F(SnapshotTest, ASnapshotNotReadWholeLeavesNoSlotAndTheSameSettingsStartOver) {
  const std::string table = unique_name("again");
  const std::string publication = unique_name("pub");
  execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text NOT NULL)");
  execute("INSERT INTO " + table + " SELECT g, 'r' || g FROM generate_series(1, 5000) g");
  execute("CREATE PUBLICATION " + publication + " FOR TABLE " + table);
  CdcConfig config = initial_config(publication, 2);
  {
    FailingSink failing(1000);
    CdcTrigger trigger(config);
    trigger.set_sink(&failing);
    auto result = trigger.run();
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().get<DeliveryFailed>(), nullptr) << result.error().message();
  }
  EXPECT_EQ(query_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE '" +
                        config.slot_name + "%'"),
            "0")
      << "neither the slot nor the temporary one that exported the snapshot";
  CollectingSink sink;
  CdcTrigger trigger(config);
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_TRUE(sink.wait_for(5000));
  auto result = thread.stop();
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(apply_by_key(sink.records(), "public." + table), id_value_content(table));
  EXPECT_EQ(sink.records().size(), 5000u);
}

TEST_F(SnapshotTest, SnapshotOnlyReadsEveryPublishedRowAndNeedsNoSlot) {
  const std::string keyed = unique_name("keyed");
  const std::string loose = unique_name("loose");
  const std::string empty = unique_name("empty");
  const std::string publication = unique_name("pub");
  execute("CREATE TABLE " + keyed + " (id int PRIMARY KEY, v text, n numeric, t timestamptz)");
  execute("INSERT INTO " + keyed +
          " VALUES (1, 'tab\there', 1.50, '2026-01-02 03:04:05+00'),"
          " (2, NULL, NULL, NULL), (3, 'line\nbreak \\ back', -7, 'infinity')");
  execute("CREATE TABLE " + loose + " (a int, b text)");
  execute("INSERT INTO " + loose + " VALUES (1, 'x'), (1, 'x'), (2, 'y')");
  execute("CREATE TABLE " + empty + " (id int PRIMARY KEY)");
  execute("CREATE PUBLICATION " + publication + " FOR TABLE " + keyed + ", " + loose + ", " +
          empty);
  CdcConfig config;
  config.conn_string = conninfo();
  config.publication = publication;
  config.snapshot = SnapshotMode::Only;
  config.snapshot_workers = 2;
  CollectingSink sink;
  CdcTrigger trigger(config);
  trigger.set_sink(&sink);
  auto result = trigger.run();
  ASSERT_TRUE(result) << result.error().message();

  std::multiset<std::string> keyed_rows, loose_rows;
  for (const Record& r : sink.records()) {
    ASSERT_EQ(r.kind, ChangeKind::Read);
    std::string joined;
    for (const auto& v : r.new_values) joined += v + "|";
    if (r.table == "public." + keyed) keyed_rows.insert(joined);
    if (r.table == "public." + loose) loose_rows.insert(joined);
    EXPECT_NE(r.table, "public." + empty);
  }
  EXPECT_EQ(keyed_rows, (std::multiset<std::string>{
                            "1|tab\there|1.50|2026-01-02 03:04:05+00|",
                            "2|<null>|<null>|<null>|",
                            "3|line\nbreak \\ back|-7|infinity|",
                        }));
  EXPECT_EQ(loose_rows, (std::multiset<std::string>{"1|x|", "1|x|", "2|y|"}));
  EXPECT_EQ(sink.records().size(), 6u);
}

TEST_F(SnapshotTest, ColumnListsRowFiltersAndPartitionsAreReadAsTheStreamSendsThem) {
  if (server_major() < 15) GTEST_SKIP() << "column lists and row filters came with PostgreSQL 15";
  const std::string t = unique_name("filtered");
  const std::string parent = unique_name("parted");
  execute("CREATE TABLE " + t + " (id int PRIMARY KEY, v text, secret text)");
  execute("INSERT INTO " + t + " SELECT g, 'v' || g, 's' FROM generate_series(1, 20) g");
  execute("CREATE TABLE " + parent + " (id int PRIMARY KEY, v text) PARTITION BY RANGE (id)");
  execute("CREATE TABLE " + parent + "_a PARTITION OF " + parent + " FOR VALUES FROM (0) TO (10)");
  execute("CREATE TABLE " + parent + "_b PARTITION OF " + parent + " FOR VALUES FROM (10) TO (20)");
  execute("INSERT INTO " + parent + " VALUES (1, 'a1'), (2, 'a2'), (15, 'b15')");
  for (bool via_root : {true, false}) {
    SCOPED_TRACE(via_root);
    const std::string publication = unique_name("pub");
    execute("CREATE PUBLICATION " + publication + " FOR TABLE " + t + " (id, v) WHERE (id > 17), " +
            parent + " WITH (publish_via_partition_root = " + (via_root ? "true" : "false") + ")");
    CdcConfig config;
    config.conn_string = conninfo();
    config.publication = publication;
    config.snapshot = SnapshotMode::Only;
    CollectingSink sink;
    CdcTrigger trigger(config);
    trigger.set_sink(&sink);
    auto result = trigger.run();
    ASSERT_TRUE(result) << result.error().message();
    std::multiset<std::string> rows;
    for (const Record& r : sink.records()) {
      std::string joined = r.table + ":";
      for (const auto& v : r.new_values) joined += v + "|";
      rows.insert(joined);
    }
    const std::string a = via_root ? parent : parent + "_a";
    const std::string b = via_root ? parent : parent + "_b";
    EXPECT_EQ(rows, (std::multiset<std::string>{
                        "public." + t + ":18|v18|",
                        "public." + t + ":19|v19|",
                        "public." + t + ":20|v20|",
                        "public." + a + ":1|a1|",
                        "public." + a + ":2|a2|",
                        "public." + b + ":15|b15|",
                    }));
  }
}

// PostgreSQL 18 publishes stored generated columns when the publication
// says so: the snapshot's rows then carry them as the stream's do, and
// without it neither does.
TEST_F(SnapshotTest, GeneratedColumnsAreReadWhenThePublicationPublishesThem) {
  if (server_major() < 18) GTEST_SKIP() << "publish_generated_columns came with PostgreSQL 18";
  for (const bool published : {true, false}) {
    SCOPED_TRACE(published);
    const std::string t = unique_name("generated");
    execute("CREATE TABLE " + t +
            " (id int PRIMARY KEY, a int, doubled int GENERATED ALWAYS AS (a * 2) STORED)");
    execute("INSERT INTO " + t + " (id, a) VALUES (1, 10)");
    const std::string publication = unique_name("pub");
    execute("CREATE PUBLICATION " + publication + " FOR TABLE " + t +
            " WITH (publish_generated_columns = " + (published ? "stored" : "none") + ")");
    CdcConfig config = initial_config(publication, 1);
    CollectingSink sink;
    CdcTrigger trigger(config);
    trigger.set_sink(&sink);
    TriggerThread thread(trigger);
    ASSERT_TRUE(sink.wait_for(1)) << "the snapshot's row did not come";
    execute(fmt::format("INSERT INTO {} (id, a) VALUES (2, 21)", t));
    ASSERT_TRUE(sink.wait_for(2)) << "the streamed row did not come";
    ASSERT_TRUE(thread.stop());
    const auto records = sink.records();
    ASSERT_EQ(records.size(), 2U);
    EXPECT_EQ(records[0].kind, ChangeKind::Read);
    EXPECT_EQ(records[1].kind, ChangeKind::Insert);
    if (published) {
      EXPECT_EQ(records[0].new_values, (Values{"1", "10", "20"}));
      EXPECT_EQ(records[1].new_values, (Values{"2", "21", "42"}));
    } else {
      EXPECT_EQ(records[0].new_values, (Values{"1", "10"}));
      EXPECT_EQ(records[1].new_values, (Values{"2", "21"}));
    }
  }
}

TEST_F(SnapshotTest, AnExistingSlotIsStreamedWithoutASnapshotAndSaysSo) {
  const std::string table = unique_name("kept");
  execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text NOT NULL)");
  execute("INSERT INTO " + table + " VALUES (1, 'before')");
  CdcConfig config = make_stream(table);
  config.create_slot = true;
  config.snapshot = SnapshotMode::Initial;
  CollectingSink sink;
  std::mutex mutex;
  std::vector<std::string> notices;
  CdcTrigger trigger(config);
  trigger.set_sink(&sink);
  trigger.on_notice([&](const std::string& text) {
    std::lock_guard lock(mutex);
    notices.push_back(text);
  });
  TriggerThread thread(trigger);
  execute("INSERT INTO " + table + " VALUES (2, 'after')");
  ASSERT_TRUE(sink.wait_for(1));
  auto result = thread.stop();  // stops and joins
  ASSERT_TRUE(result) << result.error().message();
  const auto records = sink.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, ChangeKind::Insert);
  EXPECT_EQ(records[0].new_values, (Values{"2", "after"}));
  std::lock_guard lock(mutex);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0], "slot \"" + config.slot_name +
                            "\" exists: streaming from it, without an initial snapshot (one is "
                            "read only when the slot is created)");
}

TEST_F(SnapshotTest, ALargeTableIsReadInBlockRangesByEveryWorkerExactlyOnce) {
  const std::string table = unique_name("big");
  const std::string publication = unique_name("pub");
  execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text NOT NULL)");
  execute("INSERT INTO " + table + " SELECT g, repeat('x', 100) FROM generate_series(1, 30000) g");
  execute("ANALYZE " + table);
  execute("CREATE PUBLICATION " + publication + " FOR TABLE " + table);
  SnapshotReader reader(SnapshotSettings{conninfo(), publication, "", 3, 16});
  ASSERT_TRUE(reader.open());
  ASSERT_EQ(reader.tables().size(), 1u);
  EXPECT_GT(reader.tables()[0].pages, 16u * 10) << "enough blocks for many ranges";
  EXPECT_NE(reader.exported_at(), 0u);
  std::vector<int> ids;
  size_t lasts = 0;
  auto read = reader.read([&](const SnapshotReader::Row& row) {
    auto it = row.tuple.begin();
    ids.push_back(std::stoi(std::string((*it).text())));
    lasts += row.last ? 1 : 0;
    return true;
  });
  ASSERT_TRUE(read);
  EXPECT_TRUE(*read);
  std::sort(ids.begin(), ids.end());
  ASSERT_EQ(ids.size(), 30000u);
  for (int i = 0; i < 30000; ++i) ASSERT_EQ(ids[static_cast<size_t>(i)], i + 1);
  EXPECT_EQ(lasts, 1u);
}

TEST_F(SnapshotTest, AMissingPublicationIsAClearFault) {
  CdcConfig config;
  config.conn_string = conninfo();
  config.publication = unique_name("nopub");
  config.snapshot = SnapshotMode::Only;
  CdcTrigger trigger(config);
  auto result = trigger.run();
  ASSERT_FALSE(result);
  ASSERT_NE(result.error().get<SnapshotFailed>(), nullptr);
  EXPECT_EQ(result.error().message(), "the snapshot of publication \"" + config.publication +
                                          "\" failed: publication \"" + config.publication +
                                          "\" does not exist");
}

TEST(CopyRow, UnescapesCopyTextIntoTupleColumns) {
  std::vector<std::byte> out;
  ASSERT_TRUE(append_copy_row("1\t\\N\ta\\tb\\nc\\\\d\t\\101\\x41", 4, out));
  const std::vector<uint8_t> expected = {'t', 0,   0, 0,   1,    '1', 'n',  't', 0,
                                         0,   0,   7, 'a', '\t', 'b', '\n', 'c', '\\',
                                         'd', 't', 0, 0,   0,    2,   'A',  'A'};
  ASSERT_EQ(out.size(), expected.size());
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(static_cast<uint8_t>(out[i]), expected[i]) << i;
  out.clear();
  EXPECT_FALSE(append_copy_row("1\t2\t3", 2, out)) << "a column too many";
  out.clear();
  EXPECT_FALSE(append_copy_row("1", 2, out)) << "a column short";
  out.clear();
  EXPECT_TRUE(append_copy_row("", 1, out)) << "one empty text column";
}

TEST(CopyRow, LongRunsLoneBackslashesAndShortEscapesAppendAfterWhatIsThere) {
  std::vector<std::byte> out = {std::byte{'I'}};
  const std::string long_text(300, 'z');
  // COPY's text: an escaped backslash, \t, \x without digits, \7, \012
  // then '3', and a backslash that ends the field.
  ASSERT_TRUE(append_copy_row(long_text + "\\\\" + long_text + "\\t\\x\\7\\0123\\", 1, out));
  const std::string want = long_text + "\\" + long_text + "\t" + "x" + "\7" + "\n3" + "\\";
  ASSERT_EQ(out.size(), 1 + 5 + want.size());
  EXPECT_EQ(out[0], std::byte{'I'}) << "what was there stays";
  EXPECT_EQ(out[1], std::byte{'t'});
  EXPECT_EQ(pgoutput::load_be<uint32_t>(out.data() + 2), want.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data() + 6), want.size()), want);
  // A failed row leaves `out` as it was.
  EXPECT_FALSE(append_copy_row("a\\tb", 2, out));
  EXPECT_EQ(out.size(), 1 + 5 + want.size());
}

}  // namespace
}  // namespace vil::cdc::test
