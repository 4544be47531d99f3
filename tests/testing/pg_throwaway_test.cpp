// The pg-throwaway program: environment, exit status, signals, clean-up.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct Run {
  int exit_code = -1;
  std::string out;
};

// Runs pg-throwaway through the shell, stdout captured, stderr to ours.
Run run(const std::string& args) {
  const std::string command = std::string(PG_THROWAWAY_PATH) + " " + args;
  Run result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

TEST(PgThrowaway, RunsPsqlAgainstTheCluster) {
  const auto r = run("-- psql -X -Atc 'select 1'");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "1\n");
}

TEST(PgThrowaway, ExportsTheEnvironmentAndPassesTheExitStatus) {
  const auto r =
      run("-- sh -c 'case \"$VIL_PG_CONNINFO\" in \"host=127.0.0.1 port=$PGPORT user=postgres "
          "dbname=postgres\") ;; *) exit 1;; esac; "
          "[ \"$PGHOST\" = 127.0.0.1 ] && [ \"$PGUSER\" = postgres ] && "
          "[ \"$PGDATABASE\" = postgres ] && [ -x \"$VIL_PG_BINDIR/postgres\" ] && "
          "[ -f \"$VIL_PG_DATADIR/PG_VERSION\" ] && [ -f \"$VIL_PG_LOG\" ] || exit 1; exit 7'");
  EXPECT_EQ(r.exit_code, 7);
}

TEST(PgThrowaway, AppliesSettings) {
  const auto r =
      run("--set wal_sender_timeout=7s --set=max_replication_slots=5 --durable -- "
          "psql -X -Atc 'show wal_sender_timeout' -c 'show max_replication_slots' -c 'show fsync'");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "7s\n5\non\n");
}

TEST(PgThrowaway, TakesTheServerVersion) {
  // Debian's 15 is always there; an unknown version is a cluster error.
  auto r = run("--pg 15 -- psql -X -Atc 'show server_version_num'");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, ::testing::StartsWith("15"));
  r = run("--pg 99 -- true 2>/dev/null");
  EXPECT_EQ(r.exit_code, 125);
}

TEST(PgThrowaway, RemovesTheCluster) {
  const auto r = run("-- sh -c 'dirname \"$VIL_PG_DATADIR\"'");
  ASSERT_EQ(r.exit_code, 0);
  const fs::path root = r.out.substr(0, r.out.find('\n'));
  EXPECT_THAT(root.filename().string(), ::testing::StartsWith("vil-pg-"));
  EXPECT_FALSE(fs::exists(root));
}

TEST(PgThrowaway, UsageErrorsExit2) {
  EXPECT_EQ(run("2>/dev/null").exit_code, 2);
  EXPECT_EQ(run("--bogus -- true 2>/dev/null").exit_code, 2);
  EXPECT_EQ(run("--set novalue -- true 2>/dev/null").exit_code, 2);
  const auto help = run("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("Usage: pg-throwaway"));
}

TEST(PgThrowaway, ClusterAndCommandFailures) {
  EXPECT_EQ(run("--set max_connections=lots -- true 2>/dev/null").exit_code, 125);
  EXPECT_EQ(run("-- /nonexistent/command 2>/dev/null").exit_code, 127);
  EXPECT_EQ(run("-- /dev/null 2>/dev/null").exit_code, 126);
}

// SIGTERM to pg-throwaway reaches the command; the cluster goes away after it.
TEST(PgThrowaway, ForwardsSignalsAndCleansUp) {
  const fs::path report =
      fs::temp_directory_path() / ("pg-throwaway-test-" + std::to_string(getpid()));
  fs::remove(report);
  const pid_t pid = fork();
  if (pid == 0) {
    // If this test dies, pg-throwaway gets SIGTERM: what it is about to be tested for.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    const std::string script = "echo \"$VIL_PG_DATADIR\" > " + report.string() + ".tmp && mv " +
                               report.string() + ".tmp " + report.string() + " && exec sleep 600";
    execl(PG_THROWAWAY_PATH, PG_THROWAWAY_PATH, "--", "sh", "-c", script.c_str(),
          static_cast<char*>(nullptr));
    _exit(99);
  }
  ASSERT_GT(pid, 0);
  // Waits for the command to be running (no time limit here: ctest's applies).
  int status = 0;
  while (!fs::exists(report)) {
    ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "pg-throwaway ended early: " << status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string datadir;
  std::getline(std::ifstream(report), datadir);
  fs::remove(report);
  ASSERT_TRUE(fs::exists(datadir));

  kill(pid, SIGTERM);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  EXPECT_FALSE(fs::exists(fs::path(datadir).parent_path()));
}

}  // namespace
