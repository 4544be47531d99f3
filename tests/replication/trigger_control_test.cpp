// The control lane and the acknowledgement: pause, stop and start again,
// a slow owner, an idle slot that still advances, an idle trigger that sleeps.

#include <sys/resource.h>

#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"

namespace vil::cdc::test {
namespace {

using namespace std::chrono_literals;

class TriggerControl : public TriggerTestBase {};

std::set<int> ids_of(const std::vector<Record>& records) {
  std::set<int> ids;
  for (const auto& r : records) ids.insert(std::stoi(r.new_values.at(0)));
  return ids;
}

std::set<int> range(int from, int to) {
  std::set<int> s;
  for (int i = from; i <= to; ++i) s.insert(i);
  return s;
}

TEST_F(TriggerControl, PauseDeliversNothingThenResumeDeliversEverything) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  std::mutex mutex;
  std::vector<core::TriggerOp> ops;
  TriggerThread thread(trigger, [&](const core::TriggerEvent& e) {
    std::lock_guard lock(mutex);
    if (e.op != core::TriggerOp::Fire) ops.push_back(e.op);
  });
  execute("INSERT INTO t VALUES (0)");
  ASSERT_TRUE(sink.wait_for(1));

  ASSERT_TRUE(trigger.pause());
  EXPECT_TRUE(trigger.paused());
  for (int i = 1; i <= 100; ++i) execute("INSERT INTO t VALUES (" + std::to_string(i) + ")");
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(sink.size(), 1u) << "changes were delivered while paused";
  // Status updates went on while paused: the server kept the connection.
  EXPECT_EQ(query_value("SELECT active FROM pg_replication_slots WHERE slot_name = '" +
                        config.slot_name + "'"),
            "t");

  ASSERT_TRUE(trigger.resume());
  ASSERT_TRUE(sink.wait_for(101)) << "got " << sink.size() << " of 101 after resume";
  ASSERT_TRUE(thread.stop());
  auto records = sink.records();
  ASSERT_EQ(records.size(), 101u);
  for (int i = 0; i <= 100; ++i) EXPECT_EQ(records[i].new_values.at(0), std::to_string(i));
  std::lock_guard lock(mutex);
  EXPECT_EQ(ops,
            (std::vector<core::TriggerOp>{core::TriggerOp::PauseAck, core::TriggerOp::ResumeAck,
                                          core::TriggerOp::StopAck}));
}

TEST_F(TriggerControl, StopThenStartAgainLosesNothing) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  for (int i = 1; i <= 5; ++i) execute("INSERT INTO t VALUES (" + std::to_string(i) + ")");
  CdcTrigger trigger(config);
  CollectingSink first;
  trigger.set_sink(&first);
  {
    TriggerThread thread(trigger);
    // Five whole transactions delivered (a stop between a change and its
    // commit would leave that transaction unconfirmed, to come again).
    ASSERT_TRUE(first.wait_for_commits(5));
    auto stop_began = std::chrono::steady_clock::now();
    ASSERT_TRUE(thread.stop());
    EXPECT_LT(std::chrono::steady_clock::now() - stop_began, 1500ms)
        << "stop() must return promptly";
  }
  EXPECT_EQ(ids_of(first.records()), range(1, 5));
  // Everything delivered was confirmed by the final status update.
  EXPECT_GE(confirmed_flush_lsn(config.slot_name), first.records().back().commit_lsn);

  for (int i = 6; i <= 10; ++i) execute("INSERT INTO t VALUES (" + std::to_string(i) + ")");
  CollectingSink second;
  trigger.set_sink(&second);
  TriggerThread thread(trigger);
  ASSERT_TRUE(second.wait_for(5));
  std::this_thread::sleep_for(500ms);  // room for a duplicate to show up
  ASSERT_TRUE(thread.stop());
  auto records = second.records();
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(ids_of(records), range(6, 10));
  // Sequence numbers go on across runs, never reused.
  EXPECT_GT(records.front().sequence, first.records().back().sequence);
}

TEST_F(TriggerControl, UnconfirmedTailComesAgainAfterAFailedDelivery) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  execute("INSERT INTO t VALUES (1)");
  execute("BEGIN; INSERT INTO t VALUES (2); INSERT INTO t VALUES (3); COMMIT");
  CdcTrigger trigger(config);
  CollectingSink sink;
  sink.hook = [](const Record& r) {
    if (r.new_values.at(0) == "3") throw std::runtime_error("the disk is full");
  };
  trigger.set_sink(&sink);
  auto result = trigger.run();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), 10u);
  EXPECT_NE(result.error().message().find("the disk is full"), std::string::npos);
  EXPECT_EQ(ids_of(sink.records()), (std::set<int>{1, 2, 3}));

  // The transaction of 2 and 3 was not confirmed: it comes again, whole.
  CollectingSink again;
  trigger.set_sink(&again);
  TriggerThread thread(trigger);
  ASSERT_TRUE(again.wait_for(2));
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(thread.stop());
  auto records = again.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].new_values.at(0), "2");
  EXPECT_EQ(records[0].ordinal, 0u);
  EXPECT_EQ(records[1].new_values.at(0), "3");
}

TEST_F(TriggerControl, WritesToAnUnpublishedTableStillAdvanceTheSlot) {
  execute("CREATE TABLE published (id int); CREATE TABLE other (id int)");
  CdcConfig config = make_stream("published");
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  execute("INSERT INTO other SELECT generate_series(1, 1000)");
  const uint64_t written = current_wal_lsn();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (confirmed_flush_lsn(config.slot_name) < written &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(confirmed_flush_lsn(config.slot_name), written)
      << "the idle slot's confirmed_flush_lsn did not advance";
  ASSERT_TRUE(thread.stop());
  EXPECT_EQ(sink.size(), 0u);
}

TEST_F(TriggerControl, AnIdleTriggerSleepsInPoll) {
  execute("CREATE TABLE t (id int)");
  CdcConfig config = make_stream();
  config.status_interval = 10s;
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  execute("INSERT INTO t VALUES (1)");
  ASSERT_TRUE(sink.wait_for(1));
  std::this_thread::sleep_for(1500ms);  // let the slot settle
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  std::this_thread::sleep_for(3s);
  getrusage(RUSAGE_SELF, &after);
  auto micros = [](const timeval& t) { return t.tv_sec * 1'000'000L + t.tv_usec; };
  long used = micros(after.ru_utime) - micros(before.ru_utime) + micros(after.ru_stime) -
              micros(before.ru_stime);
  EXPECT_LT(used, 100'000) << "an idle trigger used " << used << " us of CPU in 3 s";
  ASSERT_TRUE(thread.stop());
}

TEST_F(TriggerControl, AnIdleTriggerAcknowledgesAPauseAtOnce) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  EventLog log;
  TriggerThread thread(trigger, log.callback());
  execute("INSERT INTO t VALUES (1)");
  ASSERT_TRUE(sink.wait_for(1));
  for (size_t round = 1; round <= 3; ++round) {
    SCOPED_TRACE(round);
    std::this_thread::sleep_for(300ms);  // idle: the delivery thread waits for frames
    const auto asked = std::chrono::steady_clock::now();
    ASSERT_TRUE(trigger.pause());
    ASSERT_TRUE(log.wait_for(core::TriggerOp::PauseAck, round, 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 250ms) << "the pause_ack came late";
    ASSERT_TRUE(trigger.resume());
    ASSERT_TRUE(log.wait_for(core::TriggerOp::ResumeAck, round, 5s));
  }
  ASSERT_TRUE(thread.stop());
}

TEST_F(TriggerControl, AStopWithNoRunDoesNotEndTheNextStart) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  CdcTrigger trigger(config);
  ASSERT_TRUE(trigger.stop());  // nothing to stop
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  execute("INSERT INTO t VALUES (1)");
  EXPECT_TRUE(sink.wait_for(1, 30s)) << "start() ended before anything was delivered";
  ASSERT_TRUE(thread.stop());
  EXPECT_EQ(ids_of(sink.records()), (std::set<int>{1}));
}

TEST_F(TriggerControl, APauseBeforeStartHoldsDeliveryUntilResume) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  execute("INSERT INTO t VALUES (1)");
  CdcTrigger trigger(config);
  ASSERT_TRUE(trigger.pause());
  CollectingSink sink;
  trigger.set_sink(&sink);
  EventLog log;
  TriggerThread thread(trigger, log.callback());
  ASSERT_TRUE(log.wait_for(core::TriggerOp::PauseAck, 1, 10s));
  ASSERT_NE(wait_for_walsender(config.slot_name), 0);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(sink.size(), 0u) << "a change was delivered while paused";
  EXPECT_TRUE(trigger.paused());
  ASSERT_TRUE(trigger.resume());
  ASSERT_TRUE(sink.wait_for(1));
  ASSERT_TRUE(thread.stop());
  EXPECT_EQ(log.ops(),
            (std::vector<core::TriggerOp>{core::TriggerOp::PauseAck, core::TriggerOp::ResumeAck,
                                          core::TriggerOp::Fire, core::TriggerOp::StopAck}));
}

// The event callback runs on start()'s thread: from there it may use the
// control lane and read the counters, stop_ack included.
TEST_F(TriggerControl, TheEventCallbackMayCallTheControlLane) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  execute("INSERT INTO t VALUES (1)");
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  std::vector<core::TriggerOp> ops;
  auto callback = [&](const core::TriggerEvent& e) {
    ops.push_back(e.op);
    (void)trigger.cdc_state();
    (void)trigger.state();
    (void)trigger.confirmed_lsn();
    (void)trigger.server_wal_end();
    (void)trigger.bytes_received();
    switch (e.op) {
      case core::TriggerOp::Fire:
        (void)trigger.pause();
        break;
      case core::TriggerOp::PauseAck:
        (void)trigger.resume();
        break;
      case core::TriggerOp::ResumeAck:
        (void)trigger.stop();
        break;
      case core::TriggerOp::StopAck:
        (void)trigger.stop();
        (void)trigger.pause();
        (void)trigger.resume();
        break;
    }
  };
  {
    TriggerThread thread(trigger, callback);
    auto result = thread.join(30s);
    ASSERT_TRUE(result.has_value()) << "start() did not end: a callback deadlocked";
    ASSERT_TRUE(*result) << result->error().message();
  }
  EXPECT_EQ(ops,
            (std::vector<core::TriggerOp>{core::TriggerOp::Fire, core::TriggerOp::PauseAck,
                                          core::TriggerOp::ResumeAck, core::TriggerOp::StopAck}));
  EXPECT_FALSE(trigger.paused());
  // The stop() from stop_ack came with no run: the next start() streams.
  execute("INSERT INTO t VALUES (2)");
  CollectingSink next;
  trigger.set_sink(&next);
  TriggerThread again(trigger);
  ASSERT_TRUE(next.wait_for(1, 30s));
  ASSERT_TRUE(again.stop());
}

// CREATE_REPLICATION_SLOT waits for every transaction running when it
// began; a stop() meanwhile must not wait with it.
TEST_F(TriggerControl, StopIsPromptWhileTheSlotIsBeingCreated) {
  CdcConfig config = make_stream();
  config.slot_name = unique_name("late_slot");
  config.create_slot = true;
  PGconn* blocker = PQconnectdb(conninfo().c_str());
  ASSERT_EQ(PQstatus(blocker), CONNECTION_OK);
  PQclear(PQexec(blocker, "BEGIN"));
  PQclear(PQexec(blocker, "SELECT txid_current()"));  // an xid: the slot waits for it

  CdcTrigger trigger(config);
  std::optional<std::chrono::steady_clock::duration> took;
  {
    TriggerThread thread(trigger);
    // Until the walsender waits for the blocker's transaction.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (query_value("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender' "
                       "AND wait_event_type = 'Lock' AND datname = current_database()") != "1") {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the slot creation never waited";
      std::this_thread::sleep_for(20ms);
    }
    const auto asked = std::chrono::steady_clock::now();
    auto result = thread.stop();
    took = std::chrono::steady_clock::now() - asked;
    EXPECT_TRUE(result) << result.error().message();
  }
  PQclear(PQexec(blocker, "ROLLBACK"));
  PQfinish(blocker);
  ASSERT_TRUE(took.has_value());
  EXPECT_LT(*took, 1s) << "stop() waited for the slot creation";
}

// wal_sender_timeout of 2 s, and an owner that takes 5 s over one change:
// keepalives go on from the I/O thread, so the server never drops us.
class SlowOwner : public TriggerTestBase {
 public:
  static void SetUpTestSuite() { use_cluster({.settings = {{"wal_sender_timeout", "2s"}}}); }
};

TEST_F(SlowOwner, ASlowCallbackDoesNotGetTheConnectionDropped) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  config.status_interval = 10s;  // clamped to half the server's timeout
  const auto log_start = cluster().log_size();
  for (int i = 1; i <= 3; ++i) execute("INSERT INTO t VALUES (" + std::to_string(i) + ")");
  CdcTrigger trigger(config);
  CollectingSink sink;
  sink.hook = [](const Record& r) {
    if (r.new_values.at(0) == "1") std::this_thread::sleep_for(5s);
  };
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_TRUE(sink.wait_for(3, 60s));
  ASSERT_TRUE(thread.stop());
  EXPECT_EQ(ids_of(sink.records()), range(1, 3));
  EXPECT_EQ(sink.size(), 3u);
  EXPECT_EQ(trigger.cdc_state().stream_errors, 0u);
  EXPECT_EQ(cluster().log_since(log_start).find("terminating walsender process due to "
                                                "replication timeout"),
            std::string::npos);
}

}  // namespace
}  // namespace vil::cdc::test

namespace vil::cdc::test {
namespace {

using namespace std::chrono_literals;

// Paused for longer than wal_sender_timeout (2 s) while rows are written:
// status updates go on, so the server keeps the connection.
TEST_F(SlowOwner, APauseLongerThanTheServersTimeoutKeepsTheConnection) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  config.status_interval = 10s;  // clamped to half the server's timeout
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  execute("INSERT INTO t VALUES (0)");
  ASSERT_TRUE(sink.wait_for(1));
  const int walsender = walsender_pid(config.slot_name);
  ASSERT_NE(walsender, 0);

  ASSERT_TRUE(trigger.pause());
  for (int i = 1; i <= 200; ++i) {
    execute("INSERT INTO t VALUES (" + std::to_string(i) + ")");
    if (i % 40 == 0) std::this_thread::sleep_for(1s);  // 5 s paused in all
  }
  EXPECT_EQ(sink.size(), 1u) << "changes were delivered while paused";
  EXPECT_EQ(walsender_pid(config.slot_name), walsender) << "the walsender changed while paused";
  ASSERT_TRUE(trigger.resume());
  ASSERT_TRUE(sink.wait_for(201)) << "got " << sink.size() << " of 201 after resume";
  ASSERT_TRUE(thread.stop());
  auto records = sink.records();
  ASSERT_EQ(records.size(), 201u);
  for (int i = 0; i <= 200; ++i) EXPECT_EQ(records[i].new_values.at(0), std::to_string(i));
  EXPECT_EQ(trigger.cdc_state().stream_errors, 0u) << "the connection was dropped and remade";
}

}  // namespace
}  // namespace vil::cdc::test
