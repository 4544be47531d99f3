// Transactions larger than the server's logical_decoding_work_mem, and
// prepared (two-phase) transactions. Whether the server spills a large
// transaction and sends it at commit (streaming off) or streams it while it
// is in progress (on; parallel on 16+), on every server version each
// transaction arrives whole, at its commit, in commit order, and aborted
// work never arrives. The server's own statistics say which of the two it
// did, so a mode that silently fell back to the other would fail here.

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"
#include "support/held_session.hpp"

namespace vil::cdc::test {
namespace {

class TriggerLargeTransactions : public TriggerTestBase {
 protected:
  // 64 kB, the server's smallest: a few hundred rows no longer fit.
  static void SetUpTestSuite() {
    use_cluster(
        {.settings = {{"logical_decoding_work_mem", "64kB"}, {"max_prepared_transactions", "10"}}});
  }

  // The ids delivered for `table`, in delivery order.
  static std::vector<std::string> ids_of(const std::vector<Record>& records,
                                         const std::string& table) {
    std::vector<std::string> ids;
    for (const Record& r : records) {
      if (r.table == table) ids.push_back(r.new_values.at(0));
    }
    return ids;
  }

  static std::vector<std::string> range(int from, int to) {
    std::vector<std::string> ids;
    for (int id = from; id <= to; ++id) ids.push_back(std::to_string(id));
    return ids;
  }
};

// The same transactions with each streaming mode.
class TriggerStreamedTransactions : public TriggerLargeTransactions,
                                    public ::testing::WithParamInterface<Streaming> {
 protected:
  void SetUp() override {
    TriggerLargeTransactions::SetUp();
    if (GetParam() == Streaming::Parallel && server_major() < 16) {
      GTEST_SKIP() << "streaming parallel needs PostgreSQL 16";
    }
    std::string name = (std::filesystem::temp_directory_path() / "vil-spill-XXXXXX").string();
    ASSERT_NE(mkdtemp(name.data()), nullptr);
    spill_dir_ = name;
  }
  void TearDown() override {
    if (!spill_dir_.empty()) std::filesystem::remove_all(spill_dir_);
    TriggerLargeTransactions::TearDown();
  }

  // A stream in this test's mode, whose spill files go to a folder of the
  // test's own, past 64 KiB kept in memory: a few hundred rows.
  CdcConfig make_streamed() {
    CdcConfig config = make_stream();
    config.streaming = GetParam();
    config.streaming_memory_bytes = 64u << 10;
    config.spill_dir = spill_dir_.string();
    return config;
  }

  // pg_stat_replication_slots' spill_txns and stream_txns for the slot. The
  // walsender reports them when it goes idle or ends, so they are waited for.
  std::pair<uint64_t, uint64_t> server_spilled_and_streamed(const std::string& slot) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      const auto stats = query(
          "SELECT spill_txns, stream_txns FROM pg_stat_replication_slots WHERE slot_name = '" +
          slot + "'");
      if (stats.size() == 1) {
        const std::pair<uint64_t, uint64_t> got{std::stoull(*stats[0][0]),
                                                std::stoull(*stats[0][1])};
        if (got.first + got.second > 0 || std::chrono::steady_clock::now() > deadline) return got;
      } else if (std::chrono::steady_clock::now() > deadline) {
        return {0, 0};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  [[nodiscard]] size_t files_in_spill_dir() const {
    return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(spill_dir_), {}));
  }

  // Checks that the server did what the mode asks for.
  void expect_server_mode(const std::string& slot) {
    const auto [spilled, streamed] = server_spilled_and_streamed(slot);
    // PostgreSQL 14 sends these figures to its statistics collector over
    // UDP, which may drop a message under load; from 15 on they are kept in
    // shared memory and always arrive.
    if (server_major() < 15 && spilled + streamed == 0) {
      std::cerr << "note: the statistics collector reported nothing for " << slot << "\n";
      return;
    }
    if (GetParam() == Streaming::Off) {
      EXPECT_GT(spilled, 0U) << "the server spills when nobody asks it to stream";
      EXPECT_EQ(streamed, 0U);
    } else {
      EXPECT_GT(streamed, 0U) << "the server streamed nothing";
    }
  }

  std::filesystem::path spill_dir_;
};

TEST_P(TriggerStreamedTransactions, EachComesWholeAtItsCommitAndAbortedWorkNever) {
  execute("CREATE TABLE big (id int PRIMARY KEY, note text)");
  CdcConfig config = make_streamed();
  testing::HeldSession large(conninfo());
  ASSERT_TRUE(large.connected());
  // Begun first, committed after a small transaction: it comes second.
  ASSERT_EQ(large.run("BEGIN"), "");
  ASSERT_EQ(large.run("INSERT INTO big SELECT g, 'large' FROM generate_series(1000, 5999) g"), "");
  execute("INSERT INTO big VALUES (1, 'small')");
  // A subtransaction rolled back after the server had to spill or stream it.
  ASSERT_EQ(large.run("SAVEPOINT s"), "");
  ASSERT_EQ(large.run("INSERT INTO big SELECT g, 'gone' FROM generate_series(10000, 13999) g"), "");
  ASSERT_EQ(large.run("ROLLBACK TO SAVEPOINT s"), "");
  ASSERT_EQ(large.run("INSERT INTO big VALUES (6000, 'after the savepoint')"), "");
  ASSERT_EQ(large.run("COMMIT"), "");
  // A large transaction rolled back: none of it comes.
  ASSERT_EQ(large.run("BEGIN"), "");
  ASSERT_EQ(large.run("INSERT INTO big SELECT g, 'aborted' FROM generate_series(20000, 24999) g"),
            "");
  ASSERT_EQ(large.run("ROLLBACK"), "");
  execute("INSERT INTO big VALUES (2, 'small after')");

  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_TRUE(sink.wait_for_commits(3)) << "got " << sink.commits() << " of 3 transactions";
  const TriggerMetrics metrics = trigger.metrics();
  ASSERT_TRUE(thread.stop());

  const auto records = sink.records();
  std::vector<std::string> expected{"1"};
  const auto large_ids = range(1000, 6000);
  expected.insert(expected.end(), large_ids.begin(), large_ids.end());
  expected.emplace_back("2");
  EXPECT_EQ(ids_of(records, "public.big"), expected);
  EXPECT_EQ(sink.commits(), 3U);
  // The large transaction's changes are one transaction's, numbered in order.
  ASSERT_EQ(records.size(), expected.size());
  for (size_t i = 1; i + 1 < records.size(); ++i) {
    ASSERT_EQ(records[i].xid, records[1].xid) << i;
    ASSERT_EQ(records[i].ordinal, i - 1) << i;
  }
  EXPECT_LT(records.front().commit_lsn, records[1].commit_lsn);
  EXPECT_LT(records[1].commit_lsn, records.back().commit_lsn);

  expect_server_mode(config.slot_name);
  if (GetParam() == Streaming::Off) {
    EXPECT_EQ(metrics.streamed.committed, 0U);
  } else {
    EXPECT_EQ(metrics.streamed.committed, 1U);
    EXPECT_EQ(metrics.streamed.open, 0U);
    EXPECT_GT(metrics.streamed.spilled_bytes, 0U) << "64 KiB in memory, then a spill file";
  }
  EXPECT_EQ(files_in_spill_dir(), 0U);
}

TEST_P(TriggerStreamedTransactions, TwoLargeInterleavedComeEachWholeInCommitOrder) {
  execute("CREATE TABLE pair (id int PRIMARY KEY, note text)");
  CdcConfig config = make_streamed();
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_NE(wait_for_walsender(config.slot_name), 0) << "the stream did not start";

  testing::HeldSession a(conninfo());
  testing::HeldSession b(conninfo());
  ASSERT_TRUE(a.connected() && b.connected());
  ASSERT_EQ(a.run("BEGIN"), "");
  ASSERT_EQ(b.run("BEGIN"), "");
  // Turn by turn, each turn past logical_decoding_work_mem on its own.
  for (int turn = 0; turn < 4; ++turn) {
    const int base = turn * 1000;
    ASSERT_EQ(a.run("INSERT INTO pair SELECT g, 'a' FROM generate_series(" +
                    std::to_string(base + 1) + ", " + std::to_string(base + 1000) + ") g"),
              "");
    ASSERT_EQ(b.run("INSERT INTO pair SELECT g, 'b' FROM generate_series(" +
                    std::to_string(100000 + base + 1) + ", " +
                    std::to_string(100000 + base + 1000) + ") g"),
              "");
    if (turn == 1) {
      // One of b's subtransactions aborts in the middle.
      ASSERT_EQ(b.run("SAVEPOINT s"), "");
      ASSERT_EQ(b.run("INSERT INTO pair SELECT g, 'gone' FROM generate_series(500000, 501999) g"),
                "");
      ASSERT_EQ(b.run("ROLLBACK TO SAVEPOINT s"), "");
    }
  }
  ASSERT_EQ(b.run("COMMIT"), "");
  ASSERT_EQ(a.run("COMMIT"), "");
  ASSERT_TRUE(sink.wait_for_commits(2)) << "got " << sink.commits() << " of 2 transactions";
  const TriggerMetrics metrics = trigger.metrics();
  ASSERT_TRUE(thread.stop());

  std::vector<std::string> expected = range(100001, 104000);
  const auto a_ids = range(1, 4000);
  expected.insert(expected.end(), a_ids.begin(), a_ids.end());
  const auto records = sink.records();
  EXPECT_EQ(ids_of(records, "public.pair"), expected);
  ASSERT_EQ(records.size(), 8000U);
  EXPECT_EQ(records[0].new_values.at(1), "b");
  EXPECT_EQ(records[4000].new_values.at(1), "a");
  EXPECT_NE(records[0].xid, records[4000].xid);
  EXPECT_EQ(records[3999].ordinal, 3999U);
  EXPECT_EQ(records[7999].ordinal, 3999U);
  EXPECT_LT(records[0].commit_lsn, records[4000].commit_lsn);
  expect_server_mode(config.slot_name);
  if (GetParam() != Streaming::Off) {
    EXPECT_EQ(metrics.streamed.committed, 2U);
  }
  EXPECT_EQ(files_in_spill_dir(), 0U);
}

INSTANTIATE_TEST_SUITE_P(Streaming, TriggerStreamedTransactions,
                         ::testing::Values(Streaming::Off, Streaming::On, Streaming::Parallel),
                         [](const ::testing::TestParamInfo<Streaming>& param) {
                           return std::string(to_string(param.param));
                         });

TEST_F(TriggerLargeTransactions, APreparedTransactionComesOnceAtCommitPrepared) {
  execute("CREATE TABLE tp (id int PRIMARY KEY, note text)");
  CdcConfig config = make_stream();
  config.slot_name = unique_name("slot");  // vil-cdc makes this one
  config.streaming = Streaming::On;
  config.create_slot = true;
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_NE(wait_for_walsender(config.slot_name), 0) << "the stream did not start";
  testing::HeldSession session(conninfo());
  ASSERT_TRUE(session.connected());
  ASSERT_EQ(session.run("BEGIN"), "");
  ASSERT_EQ(session.run("INSERT INTO tp SELECT g, 'prepared' FROM generate_series(100, 2099) g"),
            "");
  ASSERT_EQ(session.run("PREPARE TRANSACTION 'vil_tp_commit'"), "");
  execute("BEGIN; INSERT INTO tp VALUES (2, 'rolled back'); PREPARE TRANSACTION 'vil_tp_rollback'");
  execute("INSERT INTO tp VALUES (1, 'plain')");
  execute("ROLLBACK PREPARED 'vil_tp_rollback'");
  execute("COMMIT PREPARED 'vil_tp_commit'");
  execute("INSERT INTO tp VALUES (3, 'plain after')");
  ASSERT_TRUE(sink.wait_for_commits(3)) << "got " << sink.commits() << " of 3 transactions";
  ASSERT_TRUE(thread.stop());
  // The slot was made without TWO_PHASE: the prepared work comes as one
  // transaction at COMMIT PREPARED, after what committed before it.
  std::vector<std::string> expected{"1"};
  const auto prepared = range(100, 2099);
  expected.insert(expected.end(), prepared.begin(), prepared.end());
  expected.emplace_back("3");
  EXPECT_EQ(ids_of(sink.records(), "public.tp"), expected);
  EXPECT_EQ(sink.commits(), 3U);
  EXPECT_EQ(query_value("SELECT two_phase FROM pg_replication_slots WHERE slot_name = '" +
                        config.slot_name + "'"),
            "f");
}

}  // namespace
}  // namespace vil::cdc::test
