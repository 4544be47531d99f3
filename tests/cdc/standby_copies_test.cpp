// The failover check's pure parts: the hosts a multi-host connection string
// names, one by one, and what a standby's answer says of its copy of the
// slot, in the words an operator reads.

#include "cdc/standby_copies.hpp"

#include <gtest/gtest.h>

namespace vil::cdc {
namespace {

using Options = std::vector<std::pair<std::string, std::string>>;

TEST(NamedHosts, SplitsTheListsKeepingEverythingElse) {
  const auto hosts = named_hosts(
      "host=a,b port=5433,5434 dbname=shop user=u password=secret "
      "target_session_attrs=read-write");
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].address, "a:5433");
  EXPECT_EQ(hosts[1].address, "b:5434");
  // libpq's order of options; no target_session_attrs: the one server is wanted.
  EXPECT_EQ(hosts[1].options, (Options{{"user", "u"},
                                       {"password", "secret"},
                                       {"dbname", "shop"},
                                       {"host", "b"},
                                       {"port", "5434"}}));
}

TEST(NamedHosts, OnePortServesEveryHostAndUrisWork) {
  const auto hosts = named_hosts("postgresql://a,b:6000/db?target_session_attrs=primary");
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].address, "a:5432");
  EXPECT_EQ(hosts[1].address, "b:6000");
  const auto shared = named_hosts("host=a,b port=7000");
  ASSERT_EQ(shared.size(), 2u);
  EXPECT_EQ(shared[0].address, "a:7000");
  EXPECT_EQ(shared[1].address, "b:7000");
  const auto by_address = named_hosts("hostaddr=10.0.0.1,10.0.0.2");
  ASSERT_EQ(by_address.size(), 2u);
  EXPECT_EQ(by_address[1].address, "10.0.0.2:5432");
  EXPECT_EQ(named_hosts("host=a").size(), 1u);
  EXPECT_TRUE(named_hosts("host=a password").empty());
}

TEST(JudgeCopy, ReadyOnlyWhenSynchronizedAndPersisted) {
  const auto judge = [](StandbyAnswer a) { return judge_copy("h:1", a); };
  EXPECT_FALSE(judge({false, "on", "true", "false"})) << "a primary is no standby";
  const auto ready = judge({true, "on", "true", "false"});
  ASSERT_TRUE(ready);
  EXPECT_TRUE(ready->ready);
  EXPECT_EQ(ready->why_not, "");
  EXPECT_EQ(judge({true, "on", "true", "true"})->why_not,
            "its copy is still temporary, until the primary's slot moves past what the standby "
            "reserved for it");
  EXPECT_EQ(judge({true, "on", std::nullopt, std::nullopt})->why_not, "it has no copy of the slot");
  EXPECT_EQ(judge({true, "off", std::nullopt, std::nullopt})->why_not,
            "it has no copy of the slot, and sync_replication_slots is off there");
  EXPECT_EQ(judge({true, "on", "false", "false"})->why_not,
            "its slot of that name is its own, not a copy of the primary's");
}

TEST(StandbyCopyNotice, SaysWhenReadinessChanges) {
  const StandbySlotCopy ready{"h:1", true, ""};
  const StandbySlotCopy temporary{"h:1", false, "its copy is still temporary"};
  const StandbySlotCopy missing{"h:1", false, "it has no copy of the slot"};
  EXPECT_EQ(standby_copy_notice("s", std::nullopt, temporary),
            "slot \"s\": the standby at h:1 has no ready copy yet (its copy is still temporary): "
            "a failover there now would lose the slot");
  EXPECT_EQ(standby_copy_notice("s", temporary, ready),
            "slot \"s\": the standby at h:1 holds a synchronized copy; a failover there keeps "
            "the slot");
  EXPECT_EQ(standby_copy_notice("s", ready, ready), "");
  EXPECT_EQ(standby_copy_notice("s", temporary, temporary), "");
  EXPECT_NE(standby_copy_notice("s", temporary, missing), "");
  EXPECT_NE(standby_copy_notice("s", ready, missing), "");
}

}  // namespace
}  // namespace vil::cdc
