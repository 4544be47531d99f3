// A server that restarts mid-stream: the trigger reconnects with backoff and
// nothing is lost (duplicates only from the unconfirmed tail).

#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"

namespace vil::cdc::test {
namespace {

using namespace std::chrono_literals;

class ServerRestart : public TriggerTestBase,
                      public ::testing::WithParamInterface<vil::testing::StopMode> {
 public:
  // A cluster of its own: restarting it must not disturb other suites.
  static void SetUpTestSuite() { use_cluster({.settings = {{"log_connections", "on"}}}); }
};

TEST_P(ServerRestart, ReconnectsAndLosesNothing) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  std::mutex notices_mutex;
  std::vector<std::string> notices;
  trigger.on_notice([&](const std::string& n) {
    std::lock_guard lock(notices_mutex);
    notices.push_back(n);
  });
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
  std::lock_guard lock(notices_mutex);
  ASSERT_FALSE(notices.empty());
  bool reconnected = false;
  for (const auto& n : notices)
    reconnected = reconnected || n.find("reconnected") != std::string::npos;
  EXPECT_TRUE(reconnected);
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

INSTANTIATE_TEST_SUITE_P(Modes, ServerRestart,
                         ::testing::Values(vil::testing::StopMode::Fast,
                                           vil::testing::StopMode::Immediate),
                         [](const ::testing::TestParamInfo<vil::testing::StopMode>& mode) {
                           return mode.param == vil::testing::StopMode::Fast ? "Fast" : "Immediate";
                         });

}  // namespace
}  // namespace vil::cdc::test
