// GoogleTest fixture for tests that talk to PostgreSQL.
//
//   class SlotTest : public vil::testing::PgTest {};
//   TEST_F(SlotTest, Creates) { execute("CREATE TABLE t (id int)"); ... }
//
// One throwaway cluster is shared by the whole test binary (started when the
// first such suite starts); every test gets a database of its own, dropped
// afterwards together with its logical slots. Slots and roles are
// cluster-wide: name them with unique_name(). A suite that needs other server
// settings asks for them in its own SetUpTestSuite:
//
//   static void SetUpTestSuite() { use_cluster({.settings = {{"wal_sender_timeout", "2s"}}}); }
//
// and gets a cluster of its own (one per distinct set of options).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "vil/testing/throwaway_cluster.hpp"

namespace vil::testing {

class PgTest : public ::testing::Test {
 public:
  static void SetUpTestSuite();

 protected:
  PgTest() = default;
  ~PgTest() override;  // drops the test's database

  // The cluster for the suites that follow; started on first use. Also
  // installs the SIGINT/SIGTERM cleanup.
  static void use_cluster(const ClusterOptions& opts);
  // The current suite's cluster; throws ClusterError if it could not start.
  static ThrowawayCluster& cluster();
  // "<prefix>_<n>", never returned before in this process: lower-case
  // letters, digits and '_' if the prefix is, so fit for slot names.
  static std::string unique_name(std::string_view prefix);

  // Derived fixtures that override these must call them.
  void SetUp() override;
  void TearDown() override;

  // This test's own database.
  const std::string& dbname() const { return dbname_; }
  std::string conninfo(std::string_view user = {}) const;
  void execute(std::string_view sql) const;
  std::vector<Row> query(std::string_view sql) const;
  // The text of query(sql)'s only row and column (fails if not exactly one).
  std::string query_value(std::string_view sql) const;
  // The server's major version: 14 ... 18.
  int server_major() const;

 private:
  ThrowawayCluster* pg_ = nullptr;  // the cluster this test's database lives in
  std::string dbname_;
  std::uintmax_t log_start_ = 0;
};

}  // namespace vil::testing
