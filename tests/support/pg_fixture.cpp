#include "support/pg_fixture.hpp"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include <fmt/format.h>

namespace vil::testing {
namespace {

// A cluster per distinct set of options, alive until the binary exits; a
// start that failed is remembered so that later suites fail fast with the
// same message instead of trying again.
struct SharedCluster {
  std::unique_ptr<ThrowawayCluster> cluster;
  std::string error;
};

std::map<std::string, SharedCluster>& shared_clusters() {
  static std::map<std::string, SharedCluster> clusters;
  return clusters;
}

SharedCluster* g_current = nullptr;

std::string options_key(const ClusterOptions& opts) {
  std::string key =
      fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", opts.durable, opts.superuser,
                  opts.max_replication_slots, opts.max_wal_senders, opts.os_user,
                  opts.parent_dir.string(), opts.keep, opts.server_version);
  for (const auto& [name, value] : opts.settings) key += fmt::format("|{}={}", name, value);
  if (opts.tls) {
    key += fmt::format("|tls {} {} {}", opts.tls->cert_file.string(), opts.tls->key_file.string(),
                       opts.tls->ca_file.string());
  }
  for (const auto& line : opts.hba_lines) key += fmt::format("|hba {}", line);
  return key;
}

bool env_flag(const char* name) {
  const char* value = std::getenv(name);
  return value && *value && std::string_view(value) != "0";
}

// "t12_pgoutput_insert_arrives" from the suite and test names.
std::string database_name(int n) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = fmt::format("t{}_", n);
  if (info) {
    for (const char c : std::string(info->test_suite_name()) + "_" + info->name()) {
      const auto u = static_cast<unsigned char>(c);
      name += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '_';
    }
  }
  if (name.size() > 63) name.resize(63);
  return name;
}

std::atomic<int> g_counter{0};

}  // namespace

void PgTest::SetUpTestSuite() {
  use_cluster({});
}

void PgTest::use_cluster(const ClusterOptions& opts) {
  install_cleanup_on_signal();
  auto& entry = shared_clusters()[options_key(opts)];
  if (!entry.cluster && entry.error.empty()) {
    ClusterOptions with_env = opts;
    with_env.keep_on_failure = with_env.keep_on_failure || env_flag("VIL_PG_KEEP_ON_FAILURE");
    try {
      entry.cluster = std::make_unique<ThrowawayCluster>(ThrowawayCluster::start(with_env));
    } catch (const std::exception& e) {
      entry.error = e.what();
    }
  }
  g_current = &entry;
}

ThrowawayCluster& PgTest::cluster() {
  if (!g_current) use_cluster({});
  if (!g_current->cluster) throw ClusterError(g_current->error);
  return *g_current->cluster;
}

std::string PgTest::unique_name(std::string_view prefix) {
  return fmt::format("{}_{}", prefix, ++g_counter);
}

void PgTest::SetUp() {
  if (!g_current) use_cluster({});
  if (!g_current->cluster) GTEST_FAIL() << "no PostgreSQL cluster: " << g_current->error;
  pg_ = g_current->cluster.get();
  auto& pg = *pg_;
  log_start_ = pg.log_size();
  dbname_ = database_name(++g_counter);
  try {
    pg.create_database(dbname_);
  } catch (const std::exception& e) {
    dbname_.clear();
    GTEST_FAIL() << "cannot create the test's database: " << e.what();
  }
}

void PgTest::TearDown() {
  if (!pg_) return;
  auto& pg = *pg_;
  if (HasFailure()) {
    pg.mark_failed();
    std::fprintf(stderr, "--- server log during this test (%s) ---\n%s---\n", pg.log_path().c_str(),
                 pg.log_since(log_start_, 200).c_str());
  }
  // A test that stopped the shared server must not take the next ones down.
  if (!pg.running()) {
    try {
      pg.start_again();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the test left the server stopped, and it does not start again: "
                    << e.what();
    }
  }
}

PgTest::~PgTest() {
  if (dbname_.empty() || !pg_) return;
  // Here rather than in TearDown: a derived fixture's members (a stream
  // holding a slot, say) are gone by now.
  try {
    pg_->drop_database(dbname_);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vil-pg: could not drop database %s: %s\n", dbname_.c_str(), e.what());
  }
}

std::string PgTest::conninfo(std::string_view user) const {
  return (pg_ ? *pg_ : cluster()).conninfo(dbname_, user);
}

void PgTest::execute(std::string_view sql) const {
  (pg_ ? *pg_ : cluster()).execute(sql, dbname_);
}

std::vector<Row> PgTest::query(std::string_view sql) const {
  return (pg_ ? *pg_ : cluster()).query(sql, dbname_);
}

int PgTest::server_major() const {
  return std::stoi(query_value("SELECT current_setting('server_version_num')::int / 10000"));
}

std::string PgTest::query_value(std::string_view sql) const {
  const auto rows = query(sql);
  if (rows.size() != 1 || rows[0].size() != 1) {
    throw ClusterError(fmt::format("expected one value from '{}', got {} rows", sql, rows.size()));
  }
  if (!rows[0][0]) throw ClusterError(fmt::format("'{}' returned NULL", sql));
  return *rows[0][0];
}

}  // namespace vil::testing
