// Transactions larger than the server's logical_decoding_work_mem, and
// prepared (two-phase) transactions: vil-cdc asks for neither pgoutput's
// streaming of in-progress transactions nor two-phase decoding, so on every
// server version each transaction arrives whole, at its commit, in commit
// order, and aborted work never arrives. The server spills what does not fit
// in memory to disk instead of streaming it; the tests check that too, so a
// change that turned streaming on without the buffering it needs would fail
// here.

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"

namespace vil::cdc::test {
namespace {

class TriggerLargeTransactions : public TriggerTestBase {
 protected:
  // 64 kB, the server's smallest: a few hundred rows no longer fit.
  static void SetUpTestSuite() {
    use_cluster(
        {.settings = {{"logical_decoding_work_mem", "64kB"}, {"max_prepared_transactions", "10"}}});
  }

  // A connection of the test's own, for a transaction held open while
  // others commit.
  class Session {
   public:
    explicit Session(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {}
    ~Session() { PQfinish(conn_); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    [[nodiscard]] bool connected() const { return PQstatus(conn_) == CONNECTION_OK; }
    // Runs `sql`; the server's message when it fails, else empty.
    std::string run(const std::string& sql) {
      PGresult* res = PQexec(conn_, sql.c_str());
      const bool ok =
          PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
      PQclear(res);
      return ok ? std::string() : PQerrorMessage(conn_);
    }

   private:
    PGconn* conn_;
  };

  // The ids delivered for `table`, in delivery order.
  static std::vector<std::string> ids_of(const std::vector<Record>& records,
                                         const std::string& table) {
    std::vector<std::string> ids;
    for (const Record& r : records) {
      if (r.table == table) ids.push_back(r.new_values.at(0));
    }
    return ids;
  }

  static std::vector<std::string> range(int from, int to) {
    std::vector<std::string> ids;
    for (int id = from; id <= to; ++id) ids.push_back(std::to_string(id));
    return ids;
  }
};

TEST_F(TriggerLargeTransactions, EachComesWholeAtItsCommitAndAbortedWorkNever) {
  execute("CREATE TABLE big (id int PRIMARY KEY, note text)");
  CdcConfig config = make_stream();
  Session large(conninfo());
  ASSERT_TRUE(large.connected());
  // Begun first, committed after a small transaction: it comes second.
  ASSERT_EQ(large.run("BEGIN"), "");
  ASSERT_EQ(large.run("INSERT INTO big SELECT g, 'large' FROM generate_series(1000, 5999) g"), "");
  execute("INSERT INTO big VALUES (1, 'small')");
  // A subtransaction rolled back after the server had to spill it.
  ASSERT_EQ(large.run("SAVEPOINT s"), "");
  ASSERT_EQ(large.run("INSERT INTO big SELECT g, 'gone' FROM generate_series(10000, 13999) g"), "");
  ASSERT_EQ(large.run("ROLLBACK TO SAVEPOINT s"), "");
  ASSERT_EQ(large.run("INSERT INTO big VALUES (6000, 'after the savepoint')"), "");
  ASSERT_EQ(large.run("COMMIT"), "");
  // A large transaction rolled back: none of it comes.
  ASSERT_EQ(large.run("BEGIN"), "");
  ASSERT_EQ(large.run("INSERT INTO big SELECT g, 'aborted' FROM generate_series(20000, 24999) g"),
            "");
  ASSERT_EQ(large.run("ROLLBACK"), "");
  execute("INSERT INTO big VALUES (2, 'small after')");

  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_TRUE(sink.wait_for_commits(3)) << "got " << sink.commits() << " of 3 transactions";
  ASSERT_TRUE(thread.stop());

  const auto records = sink.records();
  std::vector<std::string> expected{"1"};
  const auto large_ids = range(1000, 6000);
  expected.insert(expected.end(), large_ids.begin(), large_ids.end());
  expected.emplace_back("2");
  EXPECT_EQ(ids_of(records, "public.big"), expected);
  EXPECT_EQ(sink.commits(), 3U);
  // The large transaction's changes are one transaction's, numbered in order.
  ASSERT_EQ(records.size(), expected.size());
  for (size_t i = 1; i + 1 < records.size(); ++i) {
    ASSERT_EQ(records[i].xid, records[1].xid) << i;
    ASSERT_EQ(records[i].ordinal, i - 1) << i;
  }
  EXPECT_LT(records.front().commit_lsn, records[1].commit_lsn);
  EXPECT_LT(records[1].commit_lsn, records.back().commit_lsn);

  // The server spilled, it did not stream: nobody asked it to.
  const auto stats = query(
      "SELECT spill_txns > 0, stream_txns FROM pg_stat_replication_slots WHERE slot_name = '" +
      config.slot_name + "'");
  ASSERT_EQ(stats.size(), 1U);
  EXPECT_EQ(stats[0][0], "t");
  EXPECT_EQ(stats[0][1], "0");
}

TEST_F(TriggerLargeTransactions, APreparedTransactionComesOnceAtCommitPrepared) {
  execute("CREATE TABLE tp (id int PRIMARY KEY, note text)");
  CdcConfig config = make_stream();
  config.slot_name = unique_name("slot");  // vil-cdc makes this one
  config.create_slot = true;
  CdcTrigger trigger(config);
  CollectingSink sink;
  trigger.set_sink(&sink);
  TriggerThread thread(trigger);
  ASSERT_NE(wait_for_walsender(config.slot_name), 0) << "the stream did not start";
  Session session(conninfo());
  ASSERT_TRUE(session.connected());
  ASSERT_EQ(session.run("BEGIN"), "");
  ASSERT_EQ(session.run("INSERT INTO tp SELECT g, 'prepared' FROM generate_series(100, 2099) g"),
            "");
  ASSERT_EQ(session.run("PREPARE TRANSACTION 'vil_tp_commit'"), "");
  execute("BEGIN; INSERT INTO tp VALUES (2, 'rolled back'); PREPARE TRANSACTION 'vil_tp_rollback'");
  execute("INSERT INTO tp VALUES (1, 'plain')");
  execute("ROLLBACK PREPARED 'vil_tp_rollback'");
  execute("COMMIT PREPARED 'vil_tp_commit'");
  execute("INSERT INTO tp VALUES (3, 'plain after')");
  ASSERT_TRUE(sink.wait_for_commits(3)) << "got " << sink.commits() << " of 3 transactions";
  ASSERT_TRUE(thread.stop());
  // The slot was made without TWO_PHASE: the prepared work comes as one
  // transaction at COMMIT PREPARED, after what committed before it.
  std::vector<std::string> expected{"1"};
  const auto prepared = range(100, 2099);
  expected.insert(expected.end(), prepared.begin(), prepared.end());
  expected.emplace_back("3");
  EXPECT_EQ(ids_of(sink.records(), "public.tp"), expected);
  EXPECT_EQ(sink.commits(), 3U);
  EXPECT_EQ(query_value("SELECT two_phase FROM pg_replication_slots WHERE slot_name = '" +
                        config.slot_name + "'"),
            "f");
}

}  // namespace
}  // namespace vil::cdc::test
