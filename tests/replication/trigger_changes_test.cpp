// Row changes, transactions, truncates and messages arrive exactly, in
// commit order, with the old rows each REPLICA IDENTITY provides.

#include <string>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"
#include "vil/log/dictionary.hpp"
#include "vil/values/value.hpp"

namespace vil::cdc::test {
namespace {

class TriggerChanges : public TriggerTestBase {};

Values V(std::initializer_list<const char*> values) {
  return Values(values.begin(), values.end());
}

TEST_F(TriggerChanges, EachReplicaIdentityGivesItsOldRow) {
  execute(
      "CREATE TABLE t_default (id int PRIMARY KEY, v text);"
      "CREATE TABLE t_full (id int, v text); ALTER TABLE t_full REPLICA IDENTITY FULL;"
      "CREATE TABLE t_index (id int NOT NULL, code text NOT NULL, v text);"
      "CREATE UNIQUE INDEX t_index_code ON t_index (code);"
      "ALTER TABLE t_index REPLICA IDENTITY USING INDEX t_index_code;");
  CdcConfig config = make_stream();
  for (const char* sql :
       {"INSERT INTO t_default VALUES (1, 'a')", "UPDATE t_default SET v = 'b' WHERE id = 1",
        "UPDATE t_default SET id = 2 WHERE id = 1", "DELETE FROM t_default WHERE id = 2",
        "INSERT INTO t_full VALUES (1, 'a')", "UPDATE t_full SET v = 'b'", "DELETE FROM t_full",
        "INSERT INTO t_index VALUES (1, 'x', 'a')", "UPDATE t_index SET v = 'b'",
        "UPDATE t_index SET code = 'y'", "DELETE FROM t_index"}) {
    execute(sql);
  }
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_TRUE(sink.wait_for(11)) << "got " << sink.size() << " of 11 changes";
  ASSERT_TRUE(thread.stop());
  auto r = sink.records();
  ASSERT_EQ(r.size(), 11u);
  struct Expected {
    ChangeKind kind;
    const char* table;
    char old_kind;
    Values old_values;
    Values new_values;
  };
  const Expected expected[] = {
      {ChangeKind::Insert, "public.t_default", 0, {}, V({"1", "a"})},
      {ChangeKind::Update, "public.t_default", 0, {}, V({"1", "b"})},
      {ChangeKind::Update, "public.t_default", 'K', V({"1", "<null>"}), V({"2", "b"})},
      {ChangeKind::Delete, "public.t_default", 'K', V({"2", "<null>"}), {}},
      {ChangeKind::Insert, "public.t_full", 0, {}, V({"1", "a"})},
      {ChangeKind::Update, "public.t_full", 'O', V({"1", "a"}), V({"1", "b"})},
      {ChangeKind::Delete, "public.t_full", 'O', V({"1", "b"}), {}},
      {ChangeKind::Insert, "public.t_index", 0, {}, V({"1", "x", "a"})},
      {ChangeKind::Update, "public.t_index", 0, {}, V({"1", "x", "b"})},
      {ChangeKind::Update, "public.t_index", 'K', V({"<null>", "x", "<null>"}), V({"1", "y", "b"})},
      {ChangeKind::Delete, "public.t_index", 'K', V({"<null>", "y", "<null>"}), {}},
  };
  for (size_t i = 0; i < 11; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i].kind, expected[i].kind);
    EXPECT_EQ(r[i].table, expected[i].table);
    EXPECT_EQ(r[i].old_kind, expected[i].old_kind);
    EXPECT_EQ(r[i].old_values, expected[i].old_values);
    EXPECT_EQ(r[i].new_values, expected[i].new_values);
    EXPECT_EQ(r[i].ordinal, 0u);  // one statement, one transaction
  }
  // Each statement was its own transaction, committed in this order.
  for (size_t i = 1; i < 11; ++i) EXPECT_GT(r[i].commit_lsn, r[i - 1].commit_lsn);
}

TEST_F(TriggerChanges, CommitOrderAcrossSessionsAndTables) {
  execute("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  // Session X begins first but commits last: its changes come last.
  PGconn* x = PQconnectdb(conninfo().c_str());
  ASSERT_EQ(PQstatus(x), CONNECTION_OK);
  auto run = [&](PGconn* c, const char* sql) {
    PGresult* res = PQexec(c, sql);
    ASSERT_TRUE(PQresultStatus(res) == PGRES_COMMAND_OK) << PQerrorMessage(c);
    PQclear(res);
  };
  run(x, "BEGIN");
  run(x, "INSERT INTO a VALUES (10)");
  execute("BEGIN; INSERT INTO b VALUES (20); INSERT INTO a VALUES (21); COMMIT");
  run(x, "INSERT INTO b VALUES (11)");
  run(x, "COMMIT");
  PQfinish(x);
  execute("UPDATE a SET id = 30 WHERE id = 21");

  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  std::vector<core::TriggerEvent> events;
  TriggerThread thread(trigger, [&](const core::TriggerEvent& e) { events.push_back(e); });
  ASSERT_TRUE(sink.wait_for_commits(3)) << "got " << sink.size() << " of 5 changes";
  ASSERT_TRUE(thread.stop());
  auto r = sink.records();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].table, "public.b");
  EXPECT_EQ(r[0].new_values, V({"20"}));
  EXPECT_EQ(r[1].table, "public.a");
  EXPECT_EQ(r[1].new_values, V({"21"}));
  EXPECT_EQ(r[2].new_values, V({"10"}));
  EXPECT_EQ(r[3].new_values, V({"11"}));
  EXPECT_EQ(r[4].kind, ChangeKind::Update);
  EXPECT_EQ(r[4].old_values, V({"21"}));
  EXPECT_EQ(r[4].new_values, V({"30"}));
  EXPECT_EQ(r[0].xid, r[1].xid);
  EXPECT_EQ(r[2].xid, r[3].xid);
  EXPECT_NE(r[0].xid, r[2].xid);
  EXPECT_EQ(
      (std::vector<uint32_t>{r[0].ordinal, r[1].ordinal, r[2].ordinal, r[3].ordinal, r[4].ordinal}),
      (std::vector<uint32_t>{0, 1, 0, 1, 0}));
  EXPECT_EQ(sink.commits(), 3u);

  // Trigger lane: one event per row change, then the stop acknowledgement.
  ASSERT_EQ(events.size(), 6u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(events[i].kind_hash, log::register_str("cdc"));
    EXPECT_EQ(events[i].source_hash, log::register_str(config.slot_name));
    EXPECT_EQ(events[i].sequence, r[i].sequence);
    EXPECT_EQ(events[i].op, core::TriggerOp::Fire);
    EXPECT_GT(events[i].payload_bytes, 0u);
    if (i > 0) {
      EXPECT_GT(events[i].sequence, events[i - 1].sequence);
    }
  }
  EXPECT_EQ(events[5].op, core::TriggerOp::StopAck);
  EXPECT_EQ(trigger.cdc_state().rows_changed, 5u);
  EXPECT_EQ(trigger.state().events_fired, 5u);
}

TEST_F(TriggerChanges, TwoHundredThousandRowTransactionArrivesWholeAndInOrder) {
  execute("CREATE TABLE big (id int PRIMARY KEY, note text)");
  CdcConfig config = make_stream();
  execute("INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, 200000) g");
  CdcTrigger trigger(config);
  size_t seen = 0;
  bool in_order = true;
  std::string first_bad;
  std::mutex mutex;
  std::condition_variable done;
  vil::cdc::FunctionSink sink([&](const Change& c) {
    std::lock_guard lock(mutex);
    auto v = values_of(c.new_tuple);
    const std::string id = std::to_string(seen + 1);
    if (in_order && (c.ordinal != seen || v.size() != 2 || v[0] != id || v[1] != "row " + id)) {
      in_order = false;
      first_bad = "change " + std::to_string(seen) + ": ordinal " + std::to_string(c.ordinal) +
                  ", id " + (v.empty() ? "?" : v[0]);
    }
    if (++seen == 200000) done.notify_all();
  });
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(done.wait_for(lock, std::chrono::seconds(120), [&] { return seen == 200000; }))
        << "got " << seen << " of 200000";
  }
  ASSERT_TRUE(thread.stop());
  EXPECT_EQ(seen, 200000u);
  EXPECT_TRUE(in_order) << first_bad;
}

TEST_F(TriggerChanges, TruncateOfSeveralTablesWithItsOptions) {
  execute(
      "CREATE TABLE p (id serial PRIMARY KEY); CREATE TABLE c (id int, p_id int REFERENCES p);"
      "CREATE TABLE q (id int)");
  CdcConfig config = make_stream();
  execute("TRUNCATE p, c, q");
  execute("TRUNCATE q RESTART IDENTITY");
  execute("TRUNCATE p CASCADE");
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_TRUE(sink.wait_for(3)) << "got " << sink.size() << " of 3";
  ASSERT_TRUE(thread.stop());
  auto r = sink.records();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].kind, ChangeKind::Truncate);
  EXPECT_EQ(r[0].table, "public.p,public.c,public.q");
  EXPECT_FALSE(r[0].cascade);
  EXPECT_FALSE(r[0].restart_identity);
  EXPECT_EQ(r[1].table, "public.q");
  EXPECT_TRUE(r[1].restart_identity);
  EXPECT_FALSE(r[1].cascade);
  EXPECT_EQ(r[2].table, "public.p,public.c");
  EXPECT_TRUE(r[2].cascade);
}

TEST_F(TriggerChanges, LogicalMessagesTransactionalAndNot) {
  execute("CREATE TABLE m (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  execute(
      "BEGIN; INSERT INTO m VALUES (1); SELECT pg_logical_emit_message(true, 'vil', 'in tx');"
      "COMMIT");
  execute("SELECT pg_logical_emit_message(false, 'vil.now', 'right away')");
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_TRUE(sink.wait_for(3)) << "got " << sink.size() << " of 3";
  ASSERT_TRUE(thread.stop());
  auto r = sink.records();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].kind, ChangeKind::Insert);
  EXPECT_EQ(r[1].kind, ChangeKind::Message);
  EXPECT_EQ(r[1].prefix, "vil");
  EXPECT_EQ(r[1].content, "in tx");
  EXPECT_TRUE(r[1].transactional);
  EXPECT_EQ(r[1].ordinal, 1u);
  EXPECT_EQ(r[1].xid, r[0].xid);
  EXPECT_EQ(r[2].kind, ChangeKind::Message);
  EXPECT_EQ(r[2].prefix, "vil.now");
  EXPECT_EQ(r[2].content, "right away");
  EXPECT_FALSE(r[2].transactional);
  EXPECT_EQ(r[2].xid, 0u);
}

TEST_F(TriggerChanges, StopAtLsnDeliversExactlyTheTransactionsUpToIt) {
  execute("CREATE TABLE e (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  execute("INSERT INTO e VALUES (1)");
  execute("INSERT INTO e VALUES (2)");
  const uint64_t end = current_wal_lsn();
  execute("INSERT INTO e VALUES (3)");
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  trigger.stop_at(pgoutput::Lsn{end});
  TriggerThread thread(trigger);
  auto result = thread.join(std::chrono::seconds(60));
  ASSERT_TRUE(result.has_value()) << "start() did not return at the end LSN";
  ASSERT_TRUE(*result) << result->error().message();
  auto r = sink.records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].new_values, V({"1"}));
  EXPECT_EQ(r[1].new_values, V({"2"}));
  // Confirmed up to the second transaction, not the third.
  const uint64_t confirmed = confirmed_flush_lsn(config.slot_name);
  EXPECT_GE(confirmed, r[1].commit_lsn);
  EXPECT_LE(confirmed, end);

  // The slot has nothing more up to the end: start() returns at once with
  // nothing delivered (the keepalive tells that the server caught up).
  CdcTrigger again(config);
  CollectingSink none;
  again.set_sink(&none);
  again.stop_at(pgoutput::Lsn{end});
  TriggerThread second(again);
  auto result2 = second.join(std::chrono::seconds(60));
  ASSERT_TRUE(result2.has_value()) << "start() did not return when the slot was caught up";
  EXPECT_TRUE(*result2);
  EXPECT_EQ(none.size(), 0u);
}

// --end-lsn given as a real commit LSN (the "commit_lsn" a consumer read):
// the transaction committed exactly there is delivered, none after it.
TEST_F(TriggerChanges, StopAtTheCommitLsnOfATransactionDeliversItAndNoneAfter) {
  execute("CREATE TABLE e (id int PRIMARY KEY)");
  CdcConfig config = make_stream();
  // A second slot at the same point, to learn the commit LSNs first.
  CdcConfig probe = config;
  probe.slot_name = unique_name("probe");
  execute("SELECT pg_create_logical_replication_slot('" + probe.slot_name + "', 'pgoutput')");
  for (int i = 1; i <= 5; ++i) execute("INSERT INTO e VALUES (" + std::to_string(i) + ")");

  std::vector<uint64_t> commits;
  {
    CdcTrigger trigger(probe);
    CollectingSink sink;
    trigger.set_sink(&sink);
    TriggerThread thread(trigger);
    ASSERT_TRUE(sink.wait_for_commits(5));
    ASSERT_TRUE(thread.stop());
    for (const auto& r : sink.records()) commits.push_back(r.commit_lsn);
  }
  ASSERT_EQ(commits.size(), 5u);

  for (size_t middle : {size_t{2}, size_t{3}}) {
    SCOPED_TRACE(middle);
    CdcTrigger trigger(config);
    CollectingSink sink;
    trigger.set_sink(&sink);
    trigger.stop_at(pgoutput::Lsn{commits[middle]});
    TriggerThread thread(trigger);
    auto result = thread.join(std::chrono::seconds(60));
    ASSERT_TRUE(result.has_value()) << "start() did not return at the end LSN";
    ASSERT_TRUE(*result) << result->error().message();
    auto r = sink.records();
    // The first run delivers 1..3; the second, from where the first
    // confirmed, only 4.
    const size_t from = middle == 2 ? 0 : 3;
    ASSERT_EQ(r.size(), middle + 1 - from);
    for (size_t i = 0; i < r.size(); ++i) {
      EXPECT_EQ(r[i].new_values, Values{std::to_string(from + i + 1)});
      EXPECT_EQ(r[i].commit_lsn, commits[from + i]);
    }
    EXPECT_EQ(sink.commits(), r.size());
    const uint64_t confirmed = confirmed_flush_lsn(config.slot_name);
    EXPECT_GT(confirmed, commits[middle]) << "the last transaction was not confirmed";
    EXPECT_LT(confirmed, commits[middle + 1]) << "confirmed past the end";
  }
}

}  // namespace
}  // namespace vil::cdc::test

namespace vil::cdc::test {
namespace {

// Every protocol version the server speaks gives the same changes.
class TriggerProtocols : public TriggerTestBase, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(TriggerProtocols, SameChangesOnEveryVersion) {
  const int major = server_major();
  const int speaks = major >= 16 ? 4 : major - 12;  // 14: 2, 15: 3
  if (static_cast<int>(GetParam()) > speaks) {
    GTEST_SKIP() << "PostgreSQL " << major << " speaks up to protocol " << speaks;
  }
  execute("CREATE TABLE v (id int PRIMARY KEY, note text)");
  CdcConfig config = make_stream();
  config.protocol_version = GetParam();
  execute("BEGIN; INSERT INTO v VALUES (1, 'one'); INSERT INTO v VALUES (2, NULL); COMMIT");
  execute("UPDATE v SET note = 'uno' WHERE id = 1");
  execute("DELETE FROM v WHERE id = 2");
  execute("SELECT pg_logical_emit_message(true, 'p', 'm')");
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_TRUE(sink.wait_for_commits(4));
  ASSERT_TRUE(thread.stop());
  auto r = sink.records();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].new_values, (Values{"1", "one"}));
  EXPECT_EQ(r[1].new_values, (Values{"2", "<null>"}));
  EXPECT_EQ(r[1].ordinal, 1u);
  EXPECT_EQ(r[2].kind, ChangeKind::Update);
  EXPECT_EQ(r[2].new_values, (Values{"1", "uno"}));
  EXPECT_EQ(r[3].kind, ChangeKind::Delete);
  EXPECT_EQ(r[3].old_values, (Values{"2", "<null>"}));
  EXPECT_EQ(r[4].kind, ChangeKind::Message);
  EXPECT_EQ(r[4].content, "m");
}

INSTANTIATE_TEST_SUITE_P(Versions, TriggerProtocols, ::testing::Values(1u, 2u, 3u, 4u));

TEST_F(TriggerChanges, AProtocolTheServerDoesNotSpeakIsRefused) {
  // 14 speaks up to 2, 15 up to 3, 16 and later every version vil-cdc does.
  const int major = server_major();
  const int speaks = major >= 16 ? 4 : major - 12;
  if (speaks >= 4) GTEST_SKIP() << "PostgreSQL " << major << " speaks protocol 4, vil-cdc's highest";
  CdcConfig config = make_stream();
  config.protocol_version = speaks + 1;
  CdcTrigger trigger(config);
  auto result = trigger.run();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), 9u);
  EXPECT_NE(result.error().message().find("speaks up to " + std::to_string(speaks)),
            std::string::npos)
      << result.error().message();
}

// A change's rows are typed for the library user too: by name, converted on
// access, domains through their base type (the trigger asks the server's
// catalog), and the database's encoding is on the change.
TEST_F(TriggerChanges, RowsAreTypedByNameWithDomainsResolved) {
  execute(
      "CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);"
      "CREATE DOMAIN small_posint AS posint CHECK (VALUE < 100);"
      "CREATE TABLE typed (id small_posint PRIMARY KEY, total numeric, tags posint[],"
      " doc jsonb, at timestamptz);");
  CdcConfig config = make_stream();
  execute(
      "INSERT INTO typed VALUES (7, 12.50, '{1,2}', '{\"k\": true}',"
      " '2024-01-02 03:04:05+00')");
  const uint64_t end = current_wal_lsn();

  struct Seen {
    std::vector<std::string> types;
    int64_t id = 0;
    std::string total;
    std::vector<int64_t> tags;
    std::string doc;
    int64_t at_micros = 0;
    std::string encoding;
  };
  std::vector<Seen> seen;
  CdcTrigger trigger(config);
  vil::cdc::FunctionSink sink([&](const Change& change) {
    const RowView row = change.new_row();
    Seen s;
    for (std::size_t i = 0; i < row.size(); ++i) {
      s.types.push_back(std::string(row.type(i).name) + ":" +
                        std::string(values::kind_name(row.type(i).kind)));
    }
    s.id = std::get<int64_t>(row.value("id").value());
    s.total = std::string(std::get<values::Numeric>(row.value("total").value()).text);
    const values::Value tags = row.value("tags").value();  // kept while its elements are read
    for (const values::Value& v : std::get<values::Array>(tags).elements()) {
      s.tags.push_back(std::get<int64_t>(v));
    }
    s.doc = std::string(std::get<values::Json>(row.value("doc").value()).text);
    s.at_micros = std::get<values::TimestampTz>(row.value("at").value()).micros;
    s.encoding = std::string(change.database_encoding);
    seen.push_back(std::move(s));
  });
  trigger.set_sink(&sink);
  trigger.stop_at(pgoutput::Lsn{end});
  auto result = trigger.run();
  ASSERT_TRUE(result) << result.error().message();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].types,
            (std::vector<std::string>{"small_posint:int4", "numeric:numeric", "_posint:array",
                                      "jsonb:jsonb", "timestamptz:timestamptz"}));
  EXPECT_EQ(seen[0].id, 7);
  EXPECT_EQ(seen[0].total, "12.50");
  EXPECT_EQ(seen[0].tags, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(seen[0].doc, R"({"k": true})");
  EXPECT_EQ(seen[0].at_micros, 1'704'164'645'000'000);
  EXPECT_EQ(seen[0].encoding, "UTF8");
}

}  // namespace
}  // namespace vil::cdc::test
