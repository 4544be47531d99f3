// The owner's code fails: whatever a callback, the sink or its flush throws
// ends start() with DeliveryFailed (never std::terminate), the threads are
// joined, the fault is counted once, and nothing past the failed delivery is
// confirmed to the server, so the next run gets it again.

#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"

namespace vil::cdc::test {
namespace {

using namespace std::chrono_literals;

class DeliveryFaults : public TriggerTestBase {};

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Fails on_commit of the transaction whose first row has `id`, after long
// enough for the server's keepalive behind it to have come in.
class FailingCommitSink : public CollectingSink {
 public:
  explicit FailingCommitSink(std::string id) : id_(std::move(id)) {}
  void on_commit(const TransactionEnd& end) override {
    auto r = records();
    if (!r.empty() && r.back().commit_lsn == end.commit_lsn.value &&
        r.back().new_values.at(0) == id_) {
      std::this_thread::sleep_for(300ms);
      throw std::runtime_error("the commit log is full");
    }
    CollectingSink::on_commit(end);
  }

 private:
  std::string id_;
};

TEST_F(DeliveryFaults, AThrowingCommitCallbackConfirmsNothingPastItsTransaction) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  CdcTrigger trigger(config);
  FailingCommitSink sink("2");
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  execute("INSERT INTO t VALUES (1)");
  ASSERT_TRUE(sink.wait_for_commits(1));
  std::this_thread::sleep_for(300ms);  // 1 is flushed and confirmable before 2 comes
  execute("INSERT INTO t VALUES (2)");
  auto result = thread.join(30s);
  ASSERT_TRUE(result.has_value()) << "start() did not end on the failed commit";
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code(), 10u);
  EXPECT_TRUE(contains(result->error().message(), "the commit log is full"))
      << result->error().message();
  auto records = sink.records();
  ASSERT_EQ(records.size(), 2u);
  const uint64_t failed_commit = records[1].commit_lsn;
  const uint64_t confirmed = confirmed_flush_lsn(config.slot_name);
  EXPECT_LT(confirmed, failed_commit) << "the slot was confirmed past the failed transaction";
  EXPECT_GT(confirmed, records[0].commit_lsn);
  EXPECT_EQ(trigger.state().trigger_errors, 1u) << "one fault, counted once";

  // A new run gets the failed transaction again, and only it.
  CollectingSink again;
  trigger.set_sink(&again);
  TriggerThread second(trigger);
  ASSERT_TRUE(again.wait_for_commits(1));
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(second.stop());
  auto redelivered = again.records();
  ASSERT_EQ(redelivered.size(), 1u);
  EXPECT_EQ(redelivered[0].new_values, (Values{"2"}));
  EXPECT_EQ(redelivered[0].commit_lsn, failed_commit);
  EXPECT_EQ(trigger.state().trigger_errors, 1u);
}

TEST_F(DeliveryFaults, AThrowingCallbackOnANonTransactionalMessageConfirmsNothingPastIt) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  CdcTrigger trigger(config);
  CollectingSink sink;
  sink.hook = [](const Record& r) {
    if (r.kind == ChangeKind::Message) {
      std::this_thread::sleep_for(300ms);
      throw std::runtime_error("the broker refused the message");
    }
  };
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  execute("INSERT INTO t VALUES (1)");
  ASSERT_TRUE(sink.wait_for_commits(1));
  std::this_thread::sleep_for(300ms);
  execute("SELECT pg_logical_emit_message(false, 'vil', 'right away')");
  auto result = thread.join(30s);
  ASSERT_TRUE(result.has_value()) << "start() did not end on the failed message";
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code(), 10u);
  EXPECT_TRUE(contains(result->error().message(), "the broker refused the message"));
  auto records = sink.records();
  ASSERT_EQ(records.size(), 2u);
  ASSERT_EQ(records[1].kind, ChangeKind::Message);
  const uint64_t message_lsn = records[1].lsn;
  EXPECT_LE(confirmed_flush_lsn(config.slot_name), message_lsn)
      << "the slot was confirmed past the failed message";
  EXPECT_EQ(trigger.state().trigger_errors, 1u);

  CollectingSink again;
  trigger.set_sink(&again);
  TriggerThread second(trigger);
  ASSERT_TRUE(again.wait_for(1));
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(second.stop());
  auto redelivered = again.records();
  ASSERT_EQ(redelivered.size(), 1u);
  EXPECT_EQ(redelivered[0].kind, ChangeKind::Message);
  EXPECT_EQ(redelivered[0].content, "right away");
  EXPECT_FALSE(redelivered[0].transactional);
  EXPECT_EQ(redelivered[0].lsn, message_lsn);
}

// A sink whose every part can be made to throw, with anything.
class ThrowingSink : public CollectingSink {
 public:
  bool throw_in_commit = false;
  bool throw_in_flush = false;
  void on_commit(const TransactionEnd& end) override {
    CollectingSink::on_commit(end);
    if (throw_in_commit) throw 42;  // not a std::exception
  }
  void flush() override {
    if (throw_in_flush) throw std::string("flush refused");
  }
};

// Each way the owner's code can throw ends start() with DeliveryFailed and a
// message that says where; the test process survives (no std::terminate).
struct ThrowCase {
  const char* name;
  core::TriggerOp throwing_event;  // Fire = none of the control events
  bool commit;
  bool flush;
  const char* where;
};

class OwnerExceptions : public TriggerTestBase, public ::testing::WithParamInterface<ThrowCase> {};

TEST_P(OwnerExceptions, BecomeDeliveryFailed) {
  const ThrowCase& c = GetParam();
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  execute("INSERT INTO t VALUES (1)");
  CdcTrigger trigger(config);
  ThrowingSink sink;
  sink.throw_in_commit = c.commit;
  sink.throw_in_flush = c.flush;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger, [&](const core::TriggerEvent& e) {
    if (c.throwing_event != core::TriggerOp::Fire && e.op == c.throwing_event) throw 7;
  });
  // A failing commit or flush may end start() before the test gets here.
  if (!c.commit && !c.flush) {
    ASSERT_TRUE(sink.wait_for(1));
  }
  if (c.throwing_event == core::TriggerOp::PauseAck ||
      c.throwing_event == core::TriggerOp::ResumeAck) {
    ASSERT_TRUE(trigger.pause());
    std::this_thread::sleep_for(200ms);
    ASSERT_TRUE(trigger.resume());
  }
  std::optional<std::expected<void, CdcFault>> result;
  if (c.throwing_event == core::TriggerOp::StopAck) {
    result = thread.stop();
  } else {
    result = thread.join(30s);
  }
  ASSERT_TRUE(result.has_value()) << "start() did not end on the exception";
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code(), 10u);
  EXPECT_TRUE(contains(result->error().message(), c.where)) << result->error().message();
  EXPECT_EQ(trigger.state().trigger_errors, 1u);
  // Nothing of the failed delivery was confirmed: the row comes again.
  if (c.commit || c.flush) {
    CollectingSink again;
    trigger.set_sink(&again);
    TriggerThread second(trigger);
    ASSERT_TRUE(again.wait_for_commits(1));
    ASSERT_TRUE(second.stop());
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again.records()[0].new_values, (Values{"1"}));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Everywhere, OwnerExceptions,
    ::testing::Values(
        ThrowCase{"CommitThrowsAnInt", core::TriggerOp::Fire, true, false, "commit callback"},
        ThrowCase{"FlushThrowsAString", core::TriggerOp::Fire, false, true, "flushing"},
        ThrowCase{"PauseAckThrows", core::TriggerOp::PauseAck, false, false, "pause_ack"},
        ThrowCase{"ResumeAckThrows", core::TriggerOp::ResumeAck, false, false, "resume_ack"},
        ThrowCase{"StopAckThrows", core::TriggerOp::StopAck, false, false, "stop_ack"}),
    [](const ::testing::TestParamInfo<ThrowCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace vil::cdc::test
