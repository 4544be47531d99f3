// Publication names with quotes, backslashes, spaces, or an attempt at
// injection are created, looked up and streamed from as the very names they
// are; nothing in them runs. Slot names are PostgreSQL's [a-z0-9_] only, so
// any other is refused before a connection is made.

#include <gtest/gtest.h>

#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"

namespace vil::cdc::test {
namespace {

using namespace std::chrono_literals;

class OddPublicationNames : public TriggerTestBase,
                            public ::testing::WithParamInterface<const char*> {};

TEST_P(OddPublicationNames, AreCreatedAndStreamedAsTheyAre) {
  const std::string name = GetParam();
  execute("CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE victim (id int)");
  CdcConfig config;
  config.conn_string = conninfo();
  config.slot_name = unique_name("odd_slot");
  config.publication = name;
  config.create_publication = true;
  config.create_slot = true;
  config.status_interval = 200ms;

  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  {
    TriggerThread thread(trigger);
    ASSERT_NE(wait_for_walsender(config.slot_name), 0) << "the stream did not start";
    execute("INSERT INTO t VALUES (1)");
    ASSERT_TRUE(sink.wait_for_commits(1, 30s));
    auto result = thread.stop();
    ASSERT_TRUE(result) << result.error().message();
  }
  auto records = sink.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].table, "public.t");
  EXPECT_EQ(records[0].new_values, (Values{"1"}));

  // Exactly one publication, under exactly that name; nothing else ran.
  auto pubs = query("SELECT pubname FROM pg_publication");
  ASSERT_EQ(pubs.size(), 1u);
  EXPECT_EQ(pubs[0][0].value_or(""), name);
  EXPECT_EQ(query_value("SELECT count(*) FROM pg_class WHERE relname IN ('t', 'victim')"), "2");

  // And again from the publication as found (no creation this time).
  execute("INSERT INTO t VALUES (2)");
  config.create_publication = false;
  config.create_slot = false;
  CdcTrigger again(config);
  CollectingSink second;
  again.set_sink(&second);
  TriggerThread thread(again);
  ASSERT_TRUE(second.wait_for_commits(1, 30s));
  ASSERT_TRUE(thread.stop());
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second.records()[0].new_values, (Values{"2"}));
}

INSTANTIATE_TEST_SUITE_P(Names, OddPublicationNames,
                         ::testing::Values("pub \"quoted\" 'single'", R"(back\slash pub)",
                                           "with space", "x'); DROP TABLE victim; --",
                                           "x\"'); DROP TABLE victim; --", R"(\' trailing\)"));

TEST_F(OddPublicationNames, ASlotNameOutsideWhatPostgreSQLAllowsIsRefusedBeforeConnecting) {
  execute("CREATE TABLE victim (id int)");
  for (const char* slot : {"x'); DROP TABLE victim; --", "with space", R"(back\slash)", "Q"}) {
    SCOPED_TRACE(slot);
    CdcConfig config;
    config.conn_string = conninfo();
    config.slot_name = slot;
    config.publication = "p";
    config.create_slot = true;
    CdcTrigger trigger(config);
    auto result = trigger.run();
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), 9u);
    EXPECT_NE(result.error().message().find("cdc.slot_name"), std::string::npos);
  }
  EXPECT_EQ(query_value("SELECT count(*) FROM pg_class WHERE relname = 'victim'"), "1");
  EXPECT_EQ(query_value("SELECT count(*) FROM pg_replication_slots WHERE database = "
                        "current_database()"),
            "0");
}

}  // namespace
}  // namespace vil::cdc::test
