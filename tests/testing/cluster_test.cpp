// ThrowawayCluster: restarts, password roles, settings, clean-up.
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "support/pg_fixture.hpp"

namespace vil::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// ---- with the shared cluster ----

using ClusterRestart = PgTest;

TEST_F(ClusterRestart, FastStopKeepsDataAndPort) {
  execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before stop')");
  const int port = cluster().port();
  cluster().stop(StopMode::Fast);
  EXPECT_FALSE(cluster().running());
  EXPECT_EQ(cluster().server_pid(), 0);
  cluster().start_again();
  EXPECT_TRUE(cluster().running());
  EXPECT_EQ(cluster().port(), port);
  EXPECT_EQ(query_value("SELECT v FROM kept"), "before stop");
}

TEST_F(ClusterRestart, ImmediateStopRecovers) {
  execute("CREATE TABLE kept (v int)");
  execute("INSERT INTO kept SELECT generate_series(1, 1000)");
  cluster().stop(StopMode::Immediate);
  cluster().start_again();
  EXPECT_EQ(query_value("SELECT sum(v) FROM kept"), "500500");
  // Crash recovery ran: the log says so.
  EXPECT_THAT(cluster().log_tail(200), HasSubstr("was not properly shut down"));
}

TEST_F(ClusterRestart, RestartKeepsSlots) {
  const std::string slot = unique_name("slot");
  execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
  cluster().restart(StopMode::Fast);
  EXPECT_EQ(query_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot +
                        "' AND database = current_database()"),
            "1");
}

TEST_F(ClusterRestart, StartAgainWhileRunningIsAnError) {
  EXPECT_THROW(cluster().start_again(), ClusterError);
}

using ClusterSettings = PgTest;

TEST_F(ClusterSettings, DefaultsForLogicalReplication) {
  EXPECT_EQ(query_value("SHOW wal_level"), "logical");
  EXPECT_EQ(query_value("SHOW max_replication_slots"), "20");
  EXPECT_EQ(query_value("SHOW max_wal_senders"), "20");
  EXPECT_EQ(query_value("SHOW listen_addresses"), "127.0.0.1");
  EXPECT_EQ(query_value("SHOW fsync"), "off");
  EXPECT_EQ(query_value("SHOW TimeZone"), "UTC");
  EXPECT_EQ(query_value("SHOW server_encoding"), "UTF8");
  EXPECT_EQ(query_value("SHOW unix_socket_directories"), cluster().socket_dir().string());
  EXPECT_EQ(query_value("SELECT current_database()"), dbname());
  EXPECT_EQ(query_value("SELECT current_user"), "postgres");
  EXPECT_THAT(cluster().conninfo("db1"),
              ::testing::StartsWith("host=127.0.0.1 port=" + std::to_string(cluster().port()) +
                                    " user=postgres dbname=db1"));
}

TEST_F(ClusterSettings, RunsVilPgVersion) {
  const char* wanted = std::getenv("VIL_PG_VERSION");
  if (!wanted || !*wanted) GTEST_SKIP() << "VIL_PG_VERSION not set";
  if (std::getenv("VIL_PG_BINDIR")) GTEST_SKIP() << "VIL_PG_BINDIR overrides the version";
  EXPECT_EQ(query_value("SELECT current_setting('server_version_num')::int / 10000"), wanted);
}

TEST_F(ClusterSettings, SqlErrorsCarryTheServersMessage) {
  try {
    execute("SELECT * FROM no_such_table");
    FAIL() << "no error";
  } catch (const ClusterError& e) {
    EXPECT_THAT(e.what(), HasSubstr("relation \"no_such_table\" does not exist"));
  }
  const auto rows = query("SELECT 1, NULL::text, 'x' UNION ALL SELECT 2, 'y', NULL");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (Row{"1", std::nullopt, "x"}));
  EXPECT_EQ(rows[1], (Row{"2", "y", std::nullopt}));
}

TEST_F(ClusterSettings, RunsAsAnUnprivilegedAccountWhenRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "not root";
  const passwd* expected = getpwnam("postgres");
  if (!expected) expected = getpwnam("nobody");
  ASSERT_NE(expected, nullptr);
  struct stat st {};
  ASSERT_EQ(stat(cluster().data_dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, expected->pw_uid);
  // The server process itself, not just its files.
  std::ifstream status("/proc/" + std::to_string(cluster().server_pid()) + "/status");
  std::string line;
  std::string uid_line;
  while (std::getline(status, line)) {
    if (line.rfind("Uid:", 0) == 0) uid_line = line;
  }
  EXPECT_THAT(uid_line, HasSubstr("\t" + std::to_string(expected->pw_uid) + "\t"));
  // And we can still read its log.
  EXPECT_THAT(cluster().log_tail(), HasSubstr("database system is ready to accept connections"));
}

class ClusterOwnSettings : public PgTest {
 protected:
  static void SetUpTestSuite() {
    use_cluster({.settings = {{"wal_sender_timeout", "7s"}, {"cluster_name", "vil's \\test"}},
                 .durable = true});
  }
};

TEST_F(ClusterOwnSettings, SuiteGetsItsSettings) {
  EXPECT_EQ(query_value("SHOW wal_sender_timeout"), "7s");
  EXPECT_EQ(query_value("SHOW cluster_name"), "vil's \\test");
  EXPECT_EQ(query_value("SHOW fsync"), "on");
  EXPECT_EQ(query_value("SHOW full_page_writes"), "on");
}

using PasswordRole = PgTest;

TEST_F(PasswordRole, WrongPasswordFailsRightOneWorks) {
  const std::string role = unique_name("reader");
  cluster().create_role_with_password(role, "right horse battery");
  const auto connect = [&](const std::string& extra) {
    PGconn* conn = PQconnectdb((conninfo(role) + " " + extra).c_str());
    const bool ok = PQstatus(conn) == CONNECTION_OK;
    std::string error = PQerrorMessage(conn);
    PQfinish(conn);
    return std::pair{ok, error};
  };

  const auto wrong = connect("password=wrong");
  EXPECT_FALSE(wrong.first);
  EXPECT_THAT(wrong.second, HasSubstr("password authentication failed for user \"" + role + "\""));
  const auto none = connect("password='' passfile=/dev/null");
  EXPECT_FALSE(none.first);
  EXPECT_THAT(none.second, HasSubstr("no password supplied"));
  const auto right = connect("password='right horse battery'");
  EXPECT_TRUE(right.first) << right.second;

  // Replication connections follow the same rule.
  const auto repl_wrong = connect("replication=database password=wrong");
  EXPECT_FALSE(repl_wrong.first);
  EXPECT_THAT(repl_wrong.second, HasSubstr("password authentication failed"));
  const auto repl_right = connect("replication=database password='right horse battery'");
  EXPECT_TRUE(repl_right.first) << repl_right.second;

  // The superuser stays trusted.
  const auto super = connect("user=postgres passfile=/dev/null");
  EXPECT_TRUE(super.first) << super.second;
  cluster().execute("DROP ROLE " + role);
}

TEST_F(PasswordRole, RejectsBadNames) {
  EXPECT_THROW(cluster().create_role_with_password("a\"b", "pw"), ClusterError);
  EXPECT_THROW(cluster().create_role_with_password(unique_name("r"), ""), ClusterError);
}

// ---- clusters of their own ----

// A private parent folder, reachable by the server account when we are root.
struct TempParent {
  fs::path path;
  TempParent() {
    std::string pattern = (fs::temp_directory_path() / "vil-cluster-test-XXXXXX").string();
    path = mkdtemp(pattern.data());
    fs::permissions(path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  }
  ~TempParent() { fs::remove_all(path); }
  int count_clusters() const {
    int n = 0;
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.path().filename().string().rfind("vil-pg-", 0) == 0) ++n;
    }
    return n;
  }
};

bool process_gone(pid_t pid) {
  return kill(pid, 0) != 0 && errno == ESRCH;
}

TEST(ThrowawayCluster, DestructionStopsServerAndRemovesFolder) {
  TempParent parent;
  std::optional<ThrowawayCluster> pg = ThrowawayCluster::start({.parent_dir = parent.path});
  const fs::path root = pg->root_dir();
  const int pid = pg->server_pid();
  ASSERT_GT(pid, 0);
  EXPECT_EQ(root.parent_path(), parent.path);
  EXPECT_TRUE(fs::exists(pg->data_dir() / "PG_VERSION"));
  EXPECT_THAT(pg->log_tail(), HasSubstr("database system is ready to accept connections"));
  EXPECT_EQ(pg->query("SELECT 40 + 2").at(0).at(0), "42");

  // Moving hands over the server; the moved-from object owns nothing.
  ThrowawayCluster moved = std::move(*pg);
  pg.reset();
  EXPECT_TRUE(fs::exists(root));
  EXPECT_TRUE(moved.running());
  { ThrowawayCluster gone = std::move(moved); }
  EXPECT_FALSE(fs::exists(root));
  EXPECT_TRUE(process_gone(pid));
  EXPECT_EQ(parent.count_clusters(), 0);
}

TEST(ThrowawayCluster, KeepLeavesTheFolderWithoutMarker) {
  TempParent parent;
  fs::path root;
  {
    auto pg = ThrowawayCluster::start({.keep = true, .parent_dir = parent.path});
    root = pg.root_dir();
  }
  EXPECT_TRUE(fs::exists(root / "data" / "PG_VERSION"));
  EXPECT_FALSE(fs::exists(root / "data" / "postmaster.pid"));  // stopped cleanly
  EXPECT_FALSE(fs::exists(root / ".vil-pg-throwaway"));        // no later sweep takes it
}

TEST(ThrowawayCluster, BadSettingFailsWithTheServerLog) {
  TempParent parent;
  try {
    ThrowawayCluster::start({.settings = {{"wal_level", "bogus"}}, .parent_dir = parent.path});
    FAIL() << "started";
  } catch (const ClusterError& e) {
    EXPECT_THAT(e.what(), HasSubstr("exited during start-up"));
    EXPECT_THAT(e.what(), HasSubstr("invalid value for parameter \"wal_level\": \"bogus\""));
  }
  EXPECT_EQ(parent.count_clusters(), 0);
}

TEST(ThrowawayCluster, MalformedOptionsAreRejectedUpFront) {
  EXPECT_THROW(ThrowawayCluster::start({.settings = {{"bad key", "1"}}}), ClusterError);
  EXPECT_THROW(ThrowawayCluster::start({.settings = {{"work_mem", "1\nfsync=on"}}}), ClusterError);
  EXPECT_THROW(ThrowawayCluster::start({.superuser = ""}), ClusterError);
}

TEST(ThrowawayCluster, UnknownServerVersionSaysWhereItLooked) {
  if (std::getenv("VIL_PG_BINDIR")) GTEST_SKIP() << "VIL_PG_BINDIR overrides the version";
  try {
    ThrowawayCluster::start({.server_version = "99"});
    FAIL() << "started";
  } catch (const ClusterError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no PostgreSQL 99 server"));
    EXPECT_THAT(e.what(), HasSubstr("/usr/lib/postgresql/99/bin"));
    EXPECT_THAT(e.what(), HasSubstr("scripts/setup.sh --pg-versions"));
  }
  try {
    ThrowawayCluster::start({.server_version = "sixteen"});
    FAIL() << "started";
  } catch (const ClusterError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not a major version number"));
  }
}

// Debian's 15 is always installed, so the option's path is tested without
// the npm servers; the other versions through VIL_PG_VERSION below.
TEST(ThrowawayCluster, ServerVersionPicksTheServer) {
  if (std::getenv("VIL_PG_BINDIR")) GTEST_SKIP() << "VIL_PG_BINDIR overrides the version";
  TempParent parent;
  auto pg = ThrowawayCluster::start({.parent_dir = parent.path, .server_version = "15"});
  EXPECT_EQ(pg.query("SELECT current_setting('server_version_num')::int / 10000").at(0).at(0),
            "15");
}

TEST(ThrowawayCluster, OtherSuperuserName) {
  TempParent parent;
  auto pg = ThrowawayCluster::start({.superuser = "boss", .parent_dir = parent.path});
  EXPECT_THAT(pg.conninfo(), HasSubstr("user=boss"));
  EXPECT_EQ(pg.query("SELECT current_user").at(0).at(0), "boss");
}

TEST(ThrowawayCluster, SweepsFoldersOfDeadRunsOnly) {
  TempParent parent;
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);

  const auto make = [&](const std::string& name, const std::string& marker) {
    fs::create_directories(parent.path / name / "data");
    if (!marker.empty()) std::ofstream(parent.path / name / ".vil-pg-throwaway") << marker;
    std::ofstream(parent.path / name / "data" / "postmaster.pid") << dead << "\n";
  };
  make("vil-pg-deadrun", "vil-pg-throwaway " + std::to_string(dead) + " 1\n");
  make("vil-pg-nomarker", "");
  make("vil-pg-foreign", "something else\n");
  std::ifstream stat_file("/proc/self/stat");
  std::string self_stat;
  std::getline(stat_file, self_stat);
  const auto fields = self_stat.substr(self_stat.rfind(')') + 2);
  std::istringstream in(fields);
  std::string field;
  for (int i = 3; i <= 22; ++i) in >> field;  // field 22: start time
  make("vil-pg-liverun", "vil-pg-throwaway " + std::to_string(getpid()) + " " + field + "\n");
  make("other-folder", "vil-pg-throwaway " + std::to_string(dead) + " 1\n");

  auto pg = ThrowawayCluster::start({.parent_dir = parent.path});
  EXPECT_FALSE(fs::exists(parent.path / "vil-pg-deadrun"));
  EXPECT_TRUE(fs::exists(parent.path / "vil-pg-nomarker"));
  EXPECT_TRUE(fs::exists(parent.path / "vil-pg-foreign"));
  EXPECT_TRUE(fs::exists(parent.path / "vil-pg-liverun"));
  EXPECT_TRUE(fs::exists(parent.path / "other-folder"));
}

// A process with clusters that gets SIGINT or SIGTERM removes them and dies
// of that signal.
class CleanupOnSignal : public ::testing::TestWithParam<int> {};

TEST_P(CleanupOnSignal, StopsServersAndRemovesFolders) {
  TempParent parent;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    try {
      install_cleanup_on_signal();
      auto first = ThrowawayCluster::start({.parent_dir = parent.path});
      // Two clusters for one signal, one for the other: both are quick.
      std::optional<ThrowawayCluster> second;
      if (GetParam() == SIGINT) second = ThrowawayCluster::start({.parent_dir = parent.path});
      const std::string report = first.root_dir().string() + "\n" +
                                 std::to_string(first.server_pid()) + "\n" +
                                 std::to_string(second ? second->server_pid() : -1) + "\n";
      if (write(fds[1], report.data(), report.size()) < 0) _exit(3);
      close(fds[1]);
      for (;;) pause();
    } catch (...) {
      _exit(2);
    }
  }
  close(fds[1]);
  std::string report;
  char buffer[512];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof buffer)) > 0) {
    report.append(buffer, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  std::istringstream lines(report);
  std::string root;
  pid_t first_pid = 0;
  pid_t second_pid = 0;
  lines >> root >> first_pid >> second_pid;
  const bool two = GetParam() == SIGINT;
  ASSERT_GT(first_pid, 0) << "the child did not start its clusters";
  if (two) {
    ASSERT_GT(second_pid, 0);
  }
  EXPECT_EQ(parent.count_clusters(), two ? 2 : 1);

  kill(child, GetParam());
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), GetParam());
  EXPECT_FALSE(fs::exists(root));
  EXPECT_EQ(parent.count_clusters(), 0);
  EXPECT_TRUE(process_gone(first_pid));
  if (two) {
    EXPECT_TRUE(process_gone(second_pid));
  }
}

INSTANTIATE_TEST_SUITE_P(Signals, CleanupOnSignal, ::testing::Values(SIGINT, SIGTERM));

}  // namespace
}  // namespace vil::testing
