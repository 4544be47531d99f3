// Reconnects that the server causes without restarting: an administrator
// ending the walsender, a slot dropped meanwhile, a temporary slot that went
// with its connection, and a server that drops every session right after
// START_REPLICATION (the backoff must keep growing).

#include <atomic>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"

namespace vil::cdc::test {
namespace {

using namespace std::chrono_literals;

class TriggerReconnect : public TriggerTestBase {
 protected:
  void insert_range(int from, int to) {
    for (int i = from; i <= to; ++i) execute("INSERT INTO t VALUES (" + std::to_string(i) + ")");
  }
  // Ends the walsender and waits until it is gone (so the slot is free).
  void end_walsender(int pid) {
    execute("SELECT pg_terminate_backend(" + std::to_string(pid) + ", 10000)");
  }
};

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST_F(TriggerReconnect, AnAdministratorEndingTheWalsenderLosesNothing) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  const std::string role = unique_name("repl");
  const std::string password = "S3cret-staple-7";
  cluster().create_role_with_password(role, password);
  config.conn_string = conninfo(role) + " password=" + password;
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  std::mutex mutex;
  std::vector<std::string> notices;
  trigger.on_notice([&](const std::string& n) {
    std::lock_guard lock(mutex);
    notices.push_back(n);
  });
  TriggerThread thread(trigger);
  insert_range(1, 50);
  ASSERT_TRUE(sink.wait_for(50));
  const int first = walsender_pid(config.slot_name);
  ASSERT_NE(first, 0);
  const uint64_t confirmed_before = confirmed_flush_lsn(config.slot_name);
  terminate_walsender(first);  // pg_terminate_backend, as an administrator would
  insert_range(51, 100);

  std::set<int> ids;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (ids.size() < 100 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    ids.clear();
    for (const auto& r : sink.records()) ids.insert(std::stoi(r.new_values.at(0)));
  }
  const int second = walsender_pid(config.slot_name);
  ASSERT_TRUE(thread.stop());
  EXPECT_EQ(ids.size(), 100u) << "rows were lost";
  EXPECT_NE(second, first);
  EXPECT_GE(trigger.cdc_state().stream_errors, 1u);
  std::set<std::pair<uint64_t, uint32_t>> seen;
  for (const auto& r : sink.records()) {
    if (!seen.insert({r.commit_lsn, r.ordinal}).second) {
      EXPECT_GE(r.commit_lsn, confirmed_before) << "a confirmed row came again";
    }
  }
  std::lock_guard lock(mutex);
  bool reconnected = false;
  for (const auto& n : notices) {
    reconnected = reconnected || contains(n, "reconnected to slot");
    EXPECT_FALSE(contains(n, password)) << n;
  }
  EXPECT_TRUE(reconnected);
}

TEST_F(TriggerReconnect, ASlotDroppedMeanwhileIsNotCreatedAgain) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  config.create_slot = true;  // only ever before the first stream
  config.reconnect.initial_backoff = 1000ms;
  config.reconnect.max_backoff = 2000ms;
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  insert_range(1, 1);
  ASSERT_TRUE(sink.wait_for(1));
  end_walsender(walsender_pid(config.slot_name));
  execute("SELECT pg_drop_replication_slot('" + config.slot_name + "')");
  insert_range(2, 2);  // what a new slot would skip

  auto result = thread.join(30s);
  ASSERT_TRUE(result.has_value()) << "start() kept retrying";
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code(), 4u) << result->error().message();
  EXPECT_TRUE(contains(result->error().message(), "no longer exists")) << result->error().message();
  EXPECT_TRUE(contains(result->error().message(), "not created again"))
      << result->error().message();
  EXPECT_EQ(query_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" +
                        config.slot_name + "'"),
            "0");
  EXPECT_EQ(sink.size(), 1u);

  // A later start() of the same trigger does not make it again either.
  auto again = trigger.run();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), 4u);
  EXPECT_EQ(query_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" +
                        config.slot_name + "'"),
            "0");
}

TEST_F(TriggerReconnect, ATemporarySlotLostWithItsConnectionIsFatal) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  config.slot_name = unique_name("temp_slot");
  config.create_slot = true;
  config.temporary_slot = true;
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  const int pid = wait_for_walsender(config.slot_name);
  ASSERT_NE(pid, 0);
  insert_range(1, 1);
  ASSERT_TRUE(sink.wait_for(1));
  end_walsender(pid);

  auto result = thread.join(30s);
  ASSERT_TRUE(result.has_value()) << "start() kept retrying";
  ASSERT_FALSE(*result);
  const std::string& message = result->error().message();
  EXPECT_EQ(result->error().code(), 4u) << message;
  EXPECT_TRUE(contains(message, "temporary replication slot \"" + config.slot_name + "\""))
      << message;
  EXPECT_TRUE(contains(message, "went with the connection")) << message;
  EXPECT_TRUE(std::regex_search(message, std::regex("changes after [0-9A-F]+/[0-9A-F]+ could not "
                                                    "be recovered")))
      << message;
  // Not made again at the server's current position.
  EXPECT_EQ(query_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" +
                        config.slot_name + "'"),
            "0");
  auto again = trigger.run();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), 4u);
  EXPECT_TRUE(contains(again.error().message(), "went with the connection"));
}

TEST_F(TriggerReconnect, TheBackoffGrowsWhenTheServerDropsEachSessionRightAfterStart) {
  CdcConfig config = make_stream();
  config.reconnect.initial_backoff = 50ms;
  config.reconnect.max_backoff = 300ms;
  CdcTrigger trigger(config);
  std::mutex mutex;
  std::vector<std::pair<int, int>> waits;  // (attempt, ms)
  trigger.on_notice([&](const std::string& n) {
    std::smatch m;
    if (std::regex_search(n, m, std::regex("reconnecting in ([0-9]+) ms \\(attempt ([0-9]+)\\)"))) {
      std::lock_guard lock(mutex);
      waits.emplace_back(std::stoi(m[2]), std::stoi(m[1]));
    }
  });
  TriggerThread thread(trigger);
  ASSERT_NE(wait_for_walsender(config.slot_name), 0);
  // Every session that starts streaming is ended at once, before any change.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    {
      std::lock_guard lock(mutex);
      if (waits.size() >= 5) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    if (int pid = walsender_pid(config.slot_name); pid != 0) terminate_walsender(pid);
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(thread.stop());
  std::lock_guard lock(mutex);
  for (size_t i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    const auto [attempt, ms] = waits[i];
    EXPECT_EQ(attempt, static_cast<int>(i + 1)) << "the attempts started over";
    const double base = std::min(50.0 * (1 << i), 300.0);
    EXPECT_GE(ms, static_cast<int>(base * 0.8) - 1);
    EXPECT_LE(ms, std::min(static_cast<int>(base * 1.2) + 1, 300)) << "past the cap";
  }
}

TEST_F(TriggerReconnect, AThrowingNoticeCallbackEndsStartWithDeliveryFailed) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  trigger.on_notice([](const std::string&) { throw std::runtime_error("stderr is closed"); });
  TriggerThread thread(trigger);
  insert_range(1, 1);
  ASSERT_TRUE(sink.wait_for(1));
  terminate_walsender(walsender_pid(config.slot_name));
  auto result = thread.join(30s);
  ASSERT_TRUE(result.has_value());
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code(), 10u);
  EXPECT_TRUE(contains(result->error().message(), "notice callback failed: stderr is closed"))
      << result->error().message();
  EXPECT_EQ(trigger.state().trigger_errors, 1u);
}

}  // namespace
}  // namespace vil::cdc::test
