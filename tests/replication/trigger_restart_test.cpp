// A server that restarts mid-stream: the trigger reconnects with backoff and
// nothing is lost (duplicates only from the unconfirmed tail). The trigger
// logs in with a password, which no notice ever shows.

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"

namespace vil::cdc::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPassword = "Tr0ub4dor-and-3";

class ServerRestart : public TriggerTestBase,
                      public ::testing::WithParamInterface<vil::testing::StopMode> {
 public:
  // A cluster of its own: restarting it must not disturb other suites.
  static void SetUpTestSuite() { use_cluster({.settings = {{"log_connections", "on"}}}); }

 protected:
  // A stream whose trigger logs in as a password role.
  CdcConfig make_password_stream() {
    CdcConfig config = make_stream();
    const std::string role = unique_name("repl");
    cluster().create_role_with_password(role, kPassword);
    config.conn_string = conninfo(role) + " password=" + kPassword;
    return config;
  }
};

class Notices {
 public:
  void attach(CdcTrigger& trigger) {
    trigger.on_notice([this](const std::string& n) {
      std::lock_guard lock(mutex_);
      notices_.push_back(n);
    });
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mutex_);
    return notices_;
  }
  void expect_reconnected_without_password() {
    auto notices = all();
    ASSERT_FALSE(notices.empty());
    bool reconnected = false;
    for (const auto& n : notices) {
      reconnected = reconnected || n.find("reconnected") != std::string::npos;
      EXPECT_EQ(n.find(kPassword), std::string::npos) << "a notice shows the password: " << n;
    }
    EXPECT_TRUE(reconnected);
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> notices_;
};

TEST_P(ServerRestart, ReconnectsAndLosesNothing) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_password_stream();
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  Notices notices;
  notices.attach(trigger);
  TriggerThread thread(trigger);
  for (int i = 1; i <= 50; ++i) execute("INSERT INTO t VALUES (" + std::to_string(i) + ")");
  ASSERT_TRUE(sink.wait_for(50));

  cluster().restart(GetParam());
  for (int i = 51; i <= 100; ++i) execute("INSERT INTO t VALUES (" + std::to_string(i) + ")");

  // Everything arrives; an immediate stop may send a tail again.
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  std::set<int> ids;
  while (std::chrono::steady_clock::now() < deadline) {
    ids.clear();
    for (const auto& r : sink.records()) ids.insert(std::stoi(r.new_values.at(0)));
    if (ids.size() == 100) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(thread.stop());
  std::set<int> all;
  for (int i = 1; i <= 100; ++i) all.insert(i);
  EXPECT_EQ(ids, all);
  EXPECT_GE(trigger.cdc_state().stream_errors, 1u);
  notices.expect_reconnected_without_password();
  // Duplicates come only from rows delivered before the restart.
  auto records = sink.records();
  std::set<int> seen;
  for (const auto& r : records) {
    int id = std::stoi(r.new_values.at(0));
    if (!seen.insert(id).second) {
      EXPECT_LE(id, 50) << "row " << id << " came twice";
    }
  }
}

// Keeps only what the checks need of each change: 50k rows of text would
// be a lot of copies.
class KeySink : public ChangeSink {
 public:
  struct Key {
    uint64_t commit_lsn;
    uint32_t ordinal;
    int id;
  };
  void on_change(const Change& change) override {
    auto values = values_of(change.new_tuple);
    {
      std::lock_guard lock(mutex_);
      keys_.push_back({change.commit_lsn.value, change.ordinal, std::stoi(values.at(0))});
    }
    count_.fetch_add(1);
    // Slow enough that the restart lands while the big transaction is
    // still being delivered.
    if (slow.load()) std::this_thread::sleep_for(50us);
  }
  size_t count() const { return count_.load(); }
  std::vector<Key> keys() const {
    std::lock_guard lock(mutex_);
    return keys_;
  }
  std::atomic<bool> slow{false};

 private:
  mutable std::mutex mutex_;
  std::vector<Key> keys_;
  std::atomic<size_t> count_{0};
};

TEST_P(ServerRestart, ALargeTransactionCutMidDeliveryArrivesWholeAndInOrder) {
  constexpr int kSmall = 20, kBig = 50'000, kAfter = 10;
  execute("CREATE TABLE big (id int PRIMARY KEY, pad text)");
  CdcConfig config = make_password_stream();
  CdcTrigger trigger(config);
  KeySink sink;
  trigger.set_sink(&sink);
  Notices notices;
  notices.attach(trigger);
  TriggerThread thread(trigger);
  for (int i = 1; i <= kSmall; ++i) {
    execute("INSERT INTO big VALUES (" + std::to_string(i) + ", 'small')");
  }
  auto wait_count = [&](size_t n, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (sink.count() < n && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(5ms);
    }
    return sink.count() >= n;
  };
  ASSERT_TRUE(wait_count(kSmall, 30s));
  sink.slow = true;
  // One transaction, wider than the trigger's 8 MB queue.
  execute("INSERT INTO big SELECT g, repeat('x', 600) FROM generate_series(" +
          std::to_string(kSmall + 1) + ", " + std::to_string(kSmall + kBig) + ") g");
  ASSERT_TRUE(wait_count(kSmall + 5'000, 60s));
  ASSERT_LT(sink.count(), static_cast<size_t>(kSmall + kBig)) << "the restart came too late";
  // Whatever is confirmed now is never sent again.
  const uint64_t confirmed_before = confirmed_flush_lsn(config.slot_name);
  sink.slow = false;  // a fast shutdown waits for the client to catch up
  cluster().restart(GetParam());
  for (int i = kSmall + kBig + 1; i <= kSmall + kBig + kAfter; ++i) {
    execute("INSERT INTO big VALUES (" + std::to_string(i) + ", 'after')");
  }
  const int total = kSmall + kBig + kAfter;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  std::set<int> ids;
  while (std::chrono::steady_clock::now() < deadline) {
    ids.clear();
    for (const auto& k : sink.keys()) ids.insert(k.id);
    if (ids.size() == static_cast<size_t>(total)) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(thread.stop());
  ASSERT_EQ(ids.size(), static_cast<size_t>(total)) << "rows were lost";
  EXPECT_EQ(*ids.begin(), 1);
  EXPECT_EQ(*ids.rbegin(), total);
  EXPECT_GE(trigger.cdc_state().stream_errors, 1u);
  notices.expect_reconnected_without_password();

  auto keys = sink.keys();
  // Rows per transaction, and duplicates only from the unconfirmed tail.
  std::map<uint64_t, uint32_t> rows_of;
  std::set<std::pair<uint64_t, uint32_t>> seen;
  for (const auto& k : keys) {
    rows_of[k.commit_lsn] = std::max(rows_of[k.commit_lsn], k.ordinal + 1);
    if (!seen.insert({k.commit_lsn, k.ordinal}).second) {
      ASSERT_GE(k.commit_lsn, confirmed_before)
          << "row " << k.id << " of a confirmed transaction came again";
    }
  }
  ASSERT_EQ(rows_of.size(), static_cast<size_t>(kSmall + 1 + kAfter));
  EXPECT_EQ(seen.size(), static_cast<size_t>(total));
  size_t big_transactions = 0;
  for (const auto& [lsn, rows] : rows_of) big_transactions += rows == kBig ? 1 : 0;
  EXPECT_EQ(big_transactions, 1u);

  // Runs: each delivery of a transaction starts at ordinal 0 and goes on
  // without a gap. A run cut short is followed by a rewind (the server
  // sending again from the slot); otherwise commit LSNs only grow.
  struct Run {
    uint64_t commit_lsn;
    uint32_t rows;
  };
  std::vector<Run> runs;
  for (const auto& k : keys) {
    if (!runs.empty() && runs.back().commit_lsn == k.commit_lsn && k.ordinal == runs.back().rows) {
      ++runs.back().rows;
      continue;
    }
    ASSERT_EQ(k.ordinal, 0u) << "row " << k.id << " starts a delivery in the middle";
    runs.push_back({k.commit_lsn, 1});
  }
  for (size_t i = 0; i + 1 < runs.size(); ++i) {
    SCOPED_TRACE(i);
    const bool whole = runs[i].rows == rows_of[runs[i].commit_lsn];
    const bool rewind = runs[i + 1].commit_lsn <= runs[i].commit_lsn;
    EXPECT_TRUE(whole || rewind) << "a transaction was cut short and not sent again";
    if (rewind) {
      EXPECT_GE(runs[i + 1].commit_lsn, confirmed_before);
    }
  }
  EXPECT_EQ(runs.back().rows, rows_of[runs.back().commit_lsn]);
  size_t big_runs = 0;
  for (const auto& run : runs) big_runs += rows_of[run.commit_lsn] == kBig ? 1 : 0;
  RecordProperty("big_transaction_deliveries", static_cast<int>(big_runs));
  RecordProperty("rows_delivered", static_cast<int>(keys.size()));
  if (GetParam() == vil::testing::StopMode::Immediate) {
    // The server died while it was still sending: it sends the
    // transaction again, from its start.
    EXPECT_GE(big_runs, 2u);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ServerRestart,
                         ::testing::Values(vil::testing::StopMode::Fast,
                                           vil::testing::StopMode::Immediate),
                         [](const ::testing::TestParamInfo<vil::testing::StopMode>& mode) {
                           return mode.param == vil::testing::StopMode::Fast ? "Fast" : "Immediate";
                         });

}  // namespace
}  // namespace vil::cdc::test
