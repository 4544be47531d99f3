// ThrowawayCluster::make_standby() and promote(): a physical standby that
// follows its primary, takes writes once promoted, and (17+) keeps a copy
// of the primary's failover slots.
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "vil/testing/throwaway_cluster.hpp"

namespace vil::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::string value_of(const ThrowawayCluster& pg, const std::string& sql) {
  return pg.query(sql).at(0).at(0).value_or("<null>");
}

int major_version(const ThrowawayCluster& pg) {
  return std::stoi(value_of(pg, "SELECT current_setting('server_version_num')::int / 10000"));
}

// Polls until `condition` holds or 60 s passed.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds pause = 20ms) {
  const auto end = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(pause);
  }
  return condition();
}

TEST(Standby, FollowsWritesAndRefusesItsOwn) {
  auto primary = ThrowawayCluster::start();
  primary.execute("CREATE TABLE t (v text)");
  primary.execute("INSERT INTO t VALUES ('before the copy')");
  auto standby = primary.make_standby({.slot_name = "follower"});

  EXPECT_NE(standby.port(), primary.port());
  EXPECT_NE(standby.data_dir(), primary.data_dir());
  EXPECT_TRUE(standby.in_recovery());
  EXPECT_FALSE(primary.in_recovery());
  EXPECT_EQ(standby.primary_slot_name(), "follower");
  EXPECT_EQ(primary.primary_slot_name(), "");
  EXPECT_EQ(value_of(primary,
                     "SELECT slot_type || ' ' || active::text FROM pg_replication_slots "
                     "WHERE slot_name = 'follower'"),
            "physical true");
  EXPECT_EQ(value_of(standby, "SHOW primary_slot_name"), "follower");
  EXPECT_EQ(value_of(standby, "SHOW hot_standby_feedback"), "on");
  EXPECT_THAT(value_of(standby, "SHOW primary_conninfo"),
              HasSubstr("port=" + std::to_string(primary.port())));
  EXPECT_THAT(value_of(standby, "SHOW primary_conninfo"), HasSubstr("dbname=postgres"));
  // The primary's slots are not copied, as pg_basebackup leaves them out.
  EXPECT_EQ(value_of(standby, "SELECT count(*) FROM pg_replication_slots"), "0");

  primary.execute("INSERT INTO t VALUES ('after the copy')");
  EXPECT_TRUE(eventually([&] { return value_of(standby, "SELECT count(*) FROM t") == "2"; }));
  const auto rows = standby.query("SELECT v FROM t ORDER BY v");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (Row{"after the copy"}));
  EXPECT_EQ(rows[1], (Row{"before the copy"}));
  try {
    standby.execute("INSERT INTO t VALUES ('on the standby')");
    FAIL() << "a standby took a write";
  } catch (const ClusterError& e) {
    EXPECT_THAT(e.what(), HasSubstr("read-only transaction"));
  }
}

TEST(Standby, PromoteMakesItWritable) {
  auto primary = ThrowawayCluster::start();
  primary.execute("CREATE TABLE t (id int)");
  auto standby = primary.make_standby();
  primary.execute("INSERT INTO t VALUES (1)");
  ASSERT_TRUE(eventually([&] { return value_of(standby, "SELECT count(*) FROM t") == "1"; }));
  primary.stop(StopMode::Immediate);

  standby.promote();
  EXPECT_FALSE(standby.in_recovery());
  standby.execute("INSERT INTO t VALUES (2)");
  const auto rows = standby.query("SELECT id FROM t ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (Row{"1"}));
  EXPECT_EQ(rows[1], (Row{"2"}));
  // A new timeline: the promoted server's history left the old primary's.
  EXPECT_EQ(value_of(standby, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"),
            "00000002");
}

TEST(Standby, SyncSlotsKeepsACopyOfAFailoverSlot) {
  auto primary = ThrowawayCluster::start();
  if (major_version(primary) < 17) {
    EXPECT_THROW(primary.make_standby({.sync_slots = true}), ClusterError);
    GTEST_SKIP() << "failover slots need PostgreSQL 17 or later";
  }
  auto standby = primary.make_standby({.slot_name = "copies", .sync_slots = true});
  EXPECT_EQ(value_of(primary, "SHOW synchronized_standby_slots"), "copies");
  EXPECT_EQ(value_of(standby, "SHOW sync_replication_slots"), "on");
  // The promoted standby must not wait for a slot it does not have.
  EXPECT_EQ(value_of(standby, "SHOW synchronized_standby_slots"), "");
  // slot_name, plugin, temporary, two-phase, failover.
  primary.execute(
      "SELECT pg_create_logical_replication_slot('kept', 'pgoutput', false, false, "
      "true)");
  const std::string copy =
      "SELECT synced::text || ' ' || temporary::text || ' ' || failover::text "
      "FROM pg_replication_slots WHERE slot_name = 'kept'";
  // The copy stays temporary until the primary's slot moves past what the
  // standby reserved for it: a consumer moves it, here an advance.
  EXPECT_TRUE(eventually(
      [&] {
        primary.execute("SELECT pg_logical_emit_message(false, 'nudge', 'x')");
        primary.execute("SELECT pg_replication_slot_advance('kept', pg_current_wal_lsn())");
        return standby.query(copy).size() == 1 && value_of(standby, copy) == "true false true";
      },
      200ms))
      << standby.log_tail();
}

}  // namespace
}  // namespace vil::testing
