// The progress line of `vil-cdc stream`: shown only when stderr is a
// terminal (a pseudo-terminal here) and not --quiet; other stderr lines
// (notices, --log stderr records) never land on top of it; its lag is how
// far the confirmed position is behind the server's WAL.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"

namespace vil::testing::cli {
namespace {

// The lines a terminal shows for `bytes`: '\r' goes back to the line's
// start, "\033[K" erases to its end, other bytes overwrite; '\n' ends a line.
// The unfinished last line is returned too.
std::vector<std::string> screen_lines(const std::string& bytes) {
  std::vector<std::string> lines;
  std::string line;
  size_t cursor = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\r') {
      cursor = 0;
    } else if (c == '\n') {
      lines.push_back(line);
      line.clear();
      cursor = 0;
    } else if (c == '\033' && bytes.compare(i, 3, "\033[K") == 0) {
      line.resize(cursor);
      i += 2;
    } else {
      if (cursor < line.size()) {
        line[cursor] = c;
      } else {
        line.push_back(c);
      }
      ++cursor;
    }
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

const std::regex kProgress(
    "^[0-9]+ events  [0-9]+/s  [0-9]+ transactions  [0-9.]+ [KMGT]?i?B received  lag "
    "(\\?|[0-9.]+ [KMGT]?i?B)$");

bool has_progress(const std::string& err) {
  for (const auto& line : screen_lines(err)) {
    if (std::regex_match(line, kProgress)) return true;
  }
  return false;
}

// The lag of the last progress line drawn, in bytes; -1 when none shows one.
double last_lag(const std::string& err) {
  static const std::regex kLag("lag ([0-9.]+) (B|KiB|MiB|GiB|TiB)$");
  double lag = -1;
  for (const auto& line : screen_lines(err)) {
    std::smatch m;
    if (!std::regex_search(line, m, kLag)) continue;
    double value = std::stod(m[1]);
    for (const char* unit : {"KiB", "MiB", "GiB", "TiB"}) {
      if (m[2] == "B") break;
      value *= 1024;
      if (m[2] == unit) break;
    }
    lag = value;
  }
  return lag;
}

class CliProgress : public CliTest {
 protected:
  // stream_args() without --quiet, then `more`.
  std::vector<std::string> loud_args(std::initializer_list<std::string> more = {}) const {
    std::vector<std::string> args{"stream", "--conn",        conninfo(),  "--slot",
                                  slot_,    "--publication", publication_};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
  // Runs until the slot is in use and two seconds more (the line is drawn
  // once a second), then SIGTERM.
  ProcessResult run_a_while(const std::vector<std::string>& args, bool tty) {
    ChildProcess child(vil_cdc_path(), args, {}, ChildOptions{.stderr_tty = tty});
    EXPECT_TRUE(wait_until([&] { return slot_active(slot_); }, &child));
    std::this_thread::sleep_for(2500ms);
    child.send_signal(SIGTERM);
    return child.wait(kRunDeadline);
  }
};

TEST_F(CliProgress, ShownOnATerminalOnlyAndNotWithQuiet) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  execute("INSERT INTO t VALUES (1), (2)");

  ProcessResult r = run_a_while(loud_args(), /*tty=*/true);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_TRUE(has_progress(r.err)) << r.err;
  EXPECT_NE(r.err.find("\r\033[K"), std::string::npos) << "redrawn in place";
  EXPECT_EQ(r.err.back(), '\n') << "the last progress line is ended";
  EXPECT_EQ(lines_of(r.out).size(), 2u);

  r = run_a_while(loud_args(), /*tty=*/false);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.err, "") << "no progress line into a pipe";

  r = run_a_while(loud_args({"--quiet"}), /*tty=*/true);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.err, "") << "--quiet";

  // The file says quiet; --no-quiet says otherwise.
  TempDir dir;
  write_text_file(dir / "quiet.yaml", "output:\n  quiet: true\n");
  write_text_file(dir / "quiet.yaml",
                  fmt::format("cdc:\n  conn_string: \"{}\"\n  slot_name: {}\n  publication: {}\n"
                              "output:\n  quiet: true\n",
                              conninfo(), slot_, publication_));
  r = run_a_while({"stream", "--config", (dir / "quiet.yaml").string(), "--no-quiet"}, true);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_TRUE(has_progress(r.err)) << r.err;
}

// While a snapshot is read, the line also shows its tables done, rows,
// rows/s and the time left by the table's statistics.
TEST_F(CliProgress, ShowsTheSnapshotWhileOneIsRead) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  execute("INSERT INTO t SELECT generate_series(1, 20000)");
  execute("ANALYZE t");
  make_stream();
  TempDir dir;
  // Chunks of 2 rows: the snapshot takes seconds, and the line is drawn
  // once a second.
  ChildProcess child(
      vil_cdc_path(),
      loud_args({"--snapshot-chunk-size", "2", "--snapshot-state", (dir / "state.json").string()}),
      {}, ChildOptions{.stderr_tty = true});
  ASSERT_TRUE(wait_until([&] { return slot_active(slot_); }, &child));
  const ProcessResult asked = run_vil_cdc(
      {"snapshot", "--conn", conninfo(), "--publication", publication_, "--table", "t", "-q"});
  ASSERT_TRUE(asked.exited(0)) << asked.describe();
  std::this_thread::sleep_for(2500ms);
  child.send_signal(SIGTERM);
  const ProcessResult r = child.wait(kRunDeadline);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  static const std::regex kSnapshot(
      "  snapshot 0/1 tables  ([0-9]+) rows  [0-9]+/s  ETA ([0-9]+[hms][0-9ms]*|\\?)$");
  bool shown = false;
  for (const auto& line : screen_lines(r.err)) {
    std::smatch m;
    if (std::regex_search(line, m, kSnapshot) && std::stoul(m[1]) > 0 && m[2] != "?") {
      shown = true;
    }
  }
  EXPECT_TRUE(shown) << r.err;
}

// A record or a notice erases the progress line first, and the line is
// drawn again after it: on the screen no line mixes the two.
TEST_F(CliProgress, NoticesAndLogRecordsAreNotWrittenOverIt) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  ChildProcess child(vil_cdc_path(), loud_args({"--log", "stderr", "--reconnect-initial-ms", "50"}),
                     {}, ChildOptions{.stderr_tty = true});
  ASSERT_TRUE(wait_until([&] { return has_progress(child.err_so_far()); }, &child))
      << child.wait(1ms).describe();
  for (int i = 1; i <= 3; ++i) {
    execute(fmt::format("INSERT INTO t VALUES ({})", i));
    std::this_thread::sleep_for(300ms);
  }
  // A lost connection: the reconnect notice.
  execute("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" +
          slot_ + "'");
  ASSERT_TRUE(wait_until(
      [&] { return child.err_so_far().find("reconnected to slot") != std::string::npos; }, &child))
      << child.wait(1ms).describe();
  std::this_thread::sleep_for(1500ms);
  child.send_signal(SIGTERM);
  const ProcessResult r = child.wait(kRunDeadline);
  ASSERT_TRUE(r.exited(0)) << r.describe();

  int records = 0;
  int notices = 0;
  int progress = 0;
  for (const auto& line : screen_lines(r.err)) {
    SCOPED_TRACE(line);
    const bool is_record = line.find(" INFO  mq ") != std::string::npos;
    const bool is_notice = line.rfind("vil-cdc: ", 0) == 0;
    const bool is_progress = std::regex_match(line, kProgress);
    EXPECT_EQ(int(is_record) + int(is_notice) + int(is_progress), 1)
        << "a screen line is one thing, whole";
    if (is_record) {
      EXPECT_EQ(line.rfind("20", 0), 0u) << "a record starts the line";
    }
    records += is_record;
    notices += is_notice;
    progress += is_progress;
  }
  EXPECT_EQ(records, 3);
  EXPECT_GE(notices, 2) << "the lost connection, the reconnect";
  EXPECT_GE(progress, 1);
}

// The walsender sends what it has decoded; the server's WAL can be far
// ahead of that. Here the output is a FIFO nobody reads, so the stream
// stalls inside a big transaction; then more WAL is written to a table
// outside the publication. The lag must count that WAL too.
TEST_F(CliProgress, LagIsBehindTheServersWalNotWhatWasSent) {
  execute("CREATE TABLE t (id int PRIMARY KEY, pad text); CREATE TABLE u (id int, pad text)");
  make_stream("t");
  TempDir dir;
  const std::string fifo = (dir / "out.fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // Opened for reading (so that vil-cdc's open does not wait) and not read.
  const int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  ChildProcess child(vil_cdc_path(), loud_args({"--output", fifo, "--status-interval-ms", "500"}),
                     {}, ChildOptions{.stderr_tty = true});
  // One small transaction first, delivered and confirmed: the lag is known.
  execute("INSERT INTO t VALUES (0, 'x')");
  ASSERT_TRUE(wait_until([&] { return last_lag(child.err_so_far()) >= 0; }, &child))
      << child.wait(1ms).describe();
  // 32 MB of changes fill the FIFO, the trigger's queue and the sockets: the
  // walsender stops inside this transaction.
  execute("INSERT INTO t SELECT i, repeat('x', 1000) FROM generate_series(1, 32000) i");
  // 64 MB of WAL the walsender does not get to.
  execute("INSERT INTO u SELECT i, repeat('y', 1000) FROM generate_series(1, 64000) i");
  const double kAtLeast = 64.0 * 1024 * 1024;
  const bool seen =
      wait_until([&] { return last_lag(child.err_so_far()) >= kAtLeast; }, &child, 30s);
  const double shown = last_lag(child.err_so_far());
  // Done: let it go (SIGTERM, then the FIFO drained so its write returns).
  child.send_signal(SIGTERM);
  fcntl(reader, F_SETFL, 0);
  char buffer[1 << 16];
  while (!child.finished() && read(reader, buffer, sizeof buffer) > 0) {
  }
  close(reader);
  const ProcessResult r = child.wait(kRunDeadline);
  EXPECT_TRUE(seen) << "lag shown: " << shown << " bytes; stderr:\n" << r.err;
  EXPECT_TRUE(r.exited(0)) << r.describe();
}

}  // namespace
}  // namespace vil::testing::cli
