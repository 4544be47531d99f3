// An AsyncChangeSink against a real server (docs/DESIGN.md §3.1): the slot
// is confirmed only up to the last transaction whose every change was
// acknowledged, in commit order; at the in-flight bound no more changes are
// handed over while status updates go on; a failed delivery ends the run
// naming the destination, with nothing past it confirmed.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"
#include "vil/cdc/cdc_trigger.hpp"

namespace vil::cdc::test {
namespace {

using namespace std::chrono_literals;

// Takes changes and acknowledges only when the test says so.
class HoldingSink final : public AsyncChangeSink {
 public:
  void bind(DeliveryAcks& acks) override {
    std::lock_guard lock(mutex_);
    acks_ = &acks;
  }
  void on_change(const Change& change) override {
    {
      std::lock_guard lock(mutex_);
      sequences_.push_back(change.sequence);
      commits_.push_back(change.commit_lsn.value);
      if (change.new_tuple.size() > 0) values_.push_back(values_of(change.new_tuple)[0]);
    }
    changed_.notify_all();
  }
  void drain() override { ++drains_; }

  bool wait_for(size_t n, std::chrono::seconds deadline = 30s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] { return sequences_.size() >= n; });
  }
  std::vector<uint64_t> sequences() const {
    std::lock_guard lock(mutex_);
    return sequences_;
  }
  // Each change's transaction's commit LSN.
  std::vector<uint64_t> commits() const {
    std::lock_guard lock(mutex_);
    return commits_;
  }
  std::vector<std::string> values() const {
    std::lock_guard lock(mutex_);
    return values_;
  }
  void acknowledge(uint64_t sequence) { acks()->acknowledge(sequence); }
  void fail(uint64_t sequence) { acks()->fail(sequence, "test broker topic t", "rejected"); }
  int drains() const { return drains_; }

 private:
  DeliveryAcks* acks() {
    std::lock_guard lock(mutex_);
    return acks_;
  }
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  DeliveryAcks* acks_ = nullptr;
  std::vector<uint64_t> sequences_;
  std::vector<uint64_t> commits_;
  std::vector<std::string> values_;
  std::atomic<int> drains_{0};
};

class AsyncSinkTest : public TriggerTestBase {
 protected:
  // Polls until the slot's confirmed flush LSN is at least `lsn`.
  bool confirmed_reaches(const std::string& slot, uint64_t lsn,
                         std::chrono::seconds deadline = 30s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      if (confirmed_flush_lsn(slot) >= lsn) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
};

TEST_F(AsyncSinkTest, ConfirmsOnlyTransactionsWhoseEveryChangeAndAllBeforeWereAcknowledged) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream("t");
  HoldingSink sink;
  CdcTrigger trigger(config);
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_NE(wait_for_walsender(config.slot_name), 0);
  execute("INSERT INTO t VALUES (1), (2)");  // T1: two changes
  execute("INSERT INTO t VALUES (3)");       // T2
  execute("INSERT INTO t VALUES (4)");       // T3
  const uint64_t after_all = current_wal_lsn();
  ASSERT_TRUE(sink.wait_for(4));
  const std::vector<uint64_t> seq = sink.sequences();
  EXPECT_EQ(sink.values(), (std::vector<std::string>{"1", "2", "3", "4"}));

  // T3 and T2 acknowledged, and the first change of T1: nothing moves.
  sink.acknowledge(seq[3]);
  sink.acknowledge(seq[2]);
  sink.acknowledge(seq[0]);
  std::this_thread::sleep_for(1s);  // five status intervals
  // At most up to T1's commit record: T1 comes again if the run ends now.
  EXPECT_LE(confirmed_flush_lsn(config.slot_name), sink.commits()[0]);
  // The last change of T1: everything, up to T3's end.
  sink.acknowledge(seq[1]);
  EXPECT_TRUE(confirmed_reaches(config.slot_name, after_all));
  auto result = thread.stop();
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_GE(sink.drains(), 1) << "the run's end drains the sink";
}

TEST_F(AsyncSinkTest, AtTheBoundNoMoreIsHandedOverWhileStatusUpdatesGoOn) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream("t");
  config.max_in_flight = 5;
  HoldingSink sink;
  CdcTrigger trigger(config);
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_NE(wait_for_walsender(config.slot_name), 0);
  for (int i = 1; i <= 20; ++i) execute("INSERT INTO t VALUES (" + std::to_string(i) + ")");
  const uint64_t end = current_wal_lsn();
  ASSERT_TRUE(sink.wait_for(5));
  const auto reply_time = [&] {
    return query_value(
        "SELECT reply_time FROM pg_stat_replication WHERE application_name = "
        "'vil-cdc'");
  };
  const std::string first_reply = reply_time();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(sink.sequences().size(), 5u) << "never more than the bound in flight";
  EXPECT_NE(reply_time(), first_reply) << "status updates go on while delivery waits";
  // Acknowledging as they come lets the rest through, and confirms it all.
  size_t acknowledged = 0;
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (acknowledged < 20 && std::chrono::steady_clock::now() < until) {
    const auto seq = sink.sequences();
    for (; acknowledged < seq.size(); ++acknowledged) sink.acknowledge(seq[acknowledged]);
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(acknowledged, 20u);
  EXPECT_TRUE(confirmed_reaches(config.slot_name, end));
  auto result = thread.stop();
  ASSERT_TRUE(result) << result.error().message();
}

TEST_F(AsyncSinkTest, AFailedDeliveryEndsTheRunNamingItAndConfirmsNothingPastIt) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream("t");
  HoldingSink sink;
  CdcTrigger trigger(config);
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_NE(wait_for_walsender(config.slot_name), 0);
  execute("INSERT INTO t VALUES (1)");
  execute("INSERT INTO t VALUES (2)");
  execute("INSERT INTO t VALUES (3)");
  ASSERT_TRUE(sink.wait_for(3));
  const auto seq = sink.sequences();
  sink.acknowledge(seq[0]);
  sink.fail(seq[1]);
  sink.acknowledge(seq[2]);
  auto done = thread.join(30s);
  ASSERT_TRUE(done.has_value()) << "the failure ends the run by itself";
  ASSERT_FALSE(*done);
  const CdcFault& fault = done->error();
  const DeliveryFailed* failed = fault.get<DeliveryFailed>();
  ASSERT_NE(failed, nullptr) << fault.message();
  EXPECT_EQ(failed != nullptr ? failed->sequence : 0, seq[1]);
  EXPECT_EQ(fault.message(), "delivering change " + std::to_string(seq[1]) +
                                 " to test broker topic t failed: rejected");
  const uint64_t confirmed = confirmed_flush_lsn(config.slot_name);
  EXPECT_GT(confirmed, sink.commits()[0]) << "the first transaction, acknowledged, is confirmed";
  EXPECT_LE(confirmed, sink.commits()[1]) << "nothing of the second: it comes again";
}

}  // namespace
}  // namespace vil::cdc::test
