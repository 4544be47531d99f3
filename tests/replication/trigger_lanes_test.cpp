// The VIL contracts on a live stream (docs/DESIGN.md §2): the TriggerSource
// interface from create_trigger(), the TriggerEvents it fires, each change's
// RowChanged summary, and the mq_log record of every row change.

#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "log/capturing_sink.hpp"
#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"
#include "vil/log/dictionary.hpp"
#include "vil/log/logger.hpp"

namespace vil::cdc::test {
namespace {

using namespace std::chrono_literals;

class TriggerLanes : public TriggerTestBase {};

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

TEST_F(TriggerLanes, TheTriggerSourceInterfaceFiresAndAcknowledges) {
  execute("CREATE TABLE t (id int PRIMARY KEY, note text)");
  CdcConfig config = make_stream();
  std::unique_ptr<core::TriggerSource> source = create_trigger(config);
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->kind(), "cdc");

  EventLog log;
  std::optional<std::expected<void, core::TriggerFault>> result;
  const uint64_t began = now_ns();
  std::thread running([&] { result = source->start(log.callback()); });
  execute("INSERT INTO t VALUES (1, 'one')");
  execute("UPDATE t SET note = 'uno' WHERE id = 1");
  execute("DELETE FROM t WHERE id = 1");
  ASSERT_TRUE(log.wait_for(3)) << "got " << log.events().size() << " of 3 events";
  ASSERT_TRUE(source->pause());
  ASSERT_TRUE(log.wait_for(4));
  ASSERT_TRUE(source->resume());
  ASSERT_TRUE(log.wait_for(5));
  ASSERT_TRUE(source->stop());
  running.join();
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(*result) << result->error().message();

  auto events = log.events();
  ASSERT_EQ(events.size(), 6u);
  const core::TriggerOp ops[] = {core::TriggerOp::Fire,      core::TriggerOp::Fire,
                                 core::TriggerOp::Fire,      core::TriggerOp::PauseAck,
                                 core::TriggerOp::ResumeAck, core::TriggerOp::StopAck};
  for (size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(events[i].op, ops[i]);
    EXPECT_EQ(events[i].kind_hash, log::register_str("cdc"));
    EXPECT_EQ(events[i].source_hash, log::register_str(config.slot_name));
    EXPECT_GE(events[i].timestamp_ns, began);
    EXPECT_LE(events[i].timestamp_ns, now_ns());
    if (i > 0) {
      EXPECT_GT(events[i].sequence, events[i - 1].sequence);
    }
    if (events[i].op == core::TriggerOp::Fire) {
      EXPECT_GT(events[i].payload_bytes, 0u);
    }
  }
}

// What the Data lane and the log see of each row change.
struct Seen {
  RowChanged summary;
  uint64_t sequence;
  uint64_t lsn;
  int64_t commit_time_ns;
  size_t row_bytes;
};

class SummarySink : public ChangeSink {
 public:
  void on_change(const Change& change) override {
    std::lock_guard lock(mutex);
    seen.push_back({change.summary, change.sequence, change.lsn.value, change.commit_time_ns,
                    change.row_bytes});
  }
  std::mutex mutex;
  std::vector<Seen> seen;
};

TEST_F(TriggerLanes, RowChangedSummaryAndMqLogRecordOfEachRowChange) {
  execute("CREATE SCHEMA shop; CREATE TABLE shop.orders (id int PRIMARY KEY, status text)");
  CdcConfig config = make_stream();
  execute("INSERT INTO shop.orders VALUES (1, 'new')");
  execute("UPDATE shop.orders SET status = 'paid' WHERE id = 1");
  execute("DELETE FROM shop.orders WHERE id = 1");
  config.log_changes = true;

  auto& logger = log::logger();
  ASSERT_TRUE(logger.enabled(log::LogLevel::Info));
  logger.drain_once();  // what other tests left
  std::vector<log::LogSlot> slots;
  logger.add_sink(std::make_unique<log::test::CapturingSink>(slots));

  CdcTrigger trigger(config);
  SummarySink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    {
      std::lock_guard lock(sink.mutex);
      if (sink.seen.size() >= 3) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the three changes did not come";
    std::this_thread::sleep_for(20ms);
  }
  const uint64_t delivered_by = now_ns();
  ASSERT_TRUE(thread.stop());
  logger.drain_once();
  logger.clear_sinks();

  const uint32_t table_hash = log::register_str("shop.orders");
  const uint32_t slot_hash = log::register_str(config.slot_name);
  std::vector<Seen> seen;
  {
    std::lock_guard lock(sink.mutex);
    seen = sink.seen;
  }
  ASSERT_EQ(seen.size(), 3u);
  for (uint8_t op = 0; op < 3; ++op) {
    SCOPED_TRACE(int(op));
    const Seen& s = seen[op];
    EXPECT_EQ(s.summary.table_hash, table_hash);
    EXPECT_EQ(s.summary.operation, op);  // insert, update, delete
    EXPECT_EQ(s.summary.slot_hash, slot_hash);
    EXPECT_EQ(s.summary.lsn_lo, static_cast<uint32_t>(s.lsn));
    EXPECT_EQ(s.summary.timestamp_ns, static_cast<uint64_t>(s.commit_time_ns));
    EXPECT_GT(s.commit_time_ns, 0);
    EXPECT_GT(s.row_bytes, 0u);
  }
  EXPECT_LT(seen[0].commit_time_ns, seen[2].commit_time_ns);

  // One Mq record per row change, in order, with docs/DESIGN.md §2.4's fields.
  std::vector<log::MqPayload> records;
  for (const auto& slot : slots) {
    if (slot.header.category != log::LogCategory::Mq) continue;
    auto p = log::as_mq_payload(slot);
    if (p.broker_hash != slot_hash) continue;  // another test's
    EXPECT_EQ(slot.header.level, log::LogLevel::Info);
    records.push_back(p);
  }
  ASSERT_EQ(records.size(), 3u);
  for (uint8_t op = 0; op < 3; ++op) {
    SCOPED_TRACE(int(op));
    const auto& r = records[op];
    EXPECT_EQ(r.broker_hash, slot_hash);
    EXPECT_EQ(r.topic_hash, table_hash);
    EXPECT_EQ(r.group_hash, log::register_str(config.publication));
    EXPECT_EQ(r.offset, seen[op].sequence);
    EXPECT_EQ(r.message_bytes, seen[op].row_bytes);
    EXPECT_EQ(static_cast<uint8_t>(r.op_type), op);
    // Commit to delivery: more than nothing, less than the test took.
    EXPECT_GT(r.e2e_latency_ns, 0u);
    EXPECT_LE(r.e2e_latency_ns, delivered_by - static_cast<uint64_t>(seen[op].commit_time_ns));
  }
}

// An owner who did not ask for them (log_changes off, the default) gets no
// per-row mq_log records, so no process-wide log rings fill on its behalf.
TEST_F(TriggerLanes, NoMqLogRecordsUnlessAskedFor) {
  execute("CREATE TABLE quiet (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  ASSERT_FALSE(config.log_changes);
  execute("INSERT INTO quiet VALUES (1), (2)");

  auto& logger = log::logger();
  logger.drain_once();
  std::vector<log::LogSlot> slots;
  logger.add_sink(std::make_unique<log::test::CapturingSink>(slots));
  CdcTrigger trigger(config);
  SummarySink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    {
      std::lock_guard lock(sink.mutex);
      if (sink.seen.size() >= 2) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the two changes did not come";
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(thread.stop());
  logger.drain_once();
  logger.clear_sinks();
  const uint32_t slot_hash = log::register_str(config.slot_name);
  for (const auto& slot : slots) {
    if (slot.header.category != log::LogCategory::Mq) continue;
    EXPECT_NE(log::as_mq_payload(slot).broker_hash, slot_hash) << "a record of this run";
  }
}

}  // namespace
}  // namespace vil::cdc::test
