// Large transactions the server streams while they are in progress
// (--streaming): vil-cdc killed while it holds one in its spill file, then
// the identical command, delivers it once, whole, in commit order, with
// nothing of aborted work and no spill file left; and the settings a server
// or the other options cannot honour exit 2 naming why.

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"
#include "support/held_session.hpp"

namespace vil::testing::cli {
namespace {

namespace fs = std::filesystem;

class CliStreaming : public CliTest {
 public:
  // 64 kB, the server's smallest: a few hundred rows are streamed.
  static void SetUpTestSuite() {
    use_cluster({.settings = {{"logical_decoding_work_mem", "64kB"}}});
  }
};

// Files `pid` holds open in `dir` (a spill file has no name there: its link
// reads "DIR/#inode (deleted)" or "DIR/name (deleted)").
size_t open_files_in(pid_t pid, const fs::path& dir) {
  size_t n = 0;
  std::error_code error;
  for (const auto& fd : fs::directory_iterator(fmt::format("/proc/{}/fd", pid), error)) {
    const fs::path target = fs::read_symlink(fd.path(), error);
    if (!error && target.string().starts_with(dir.string() + "/")) ++n;
  }
  return n;
}

TEST_F(CliStreaming, KilledWhileHoldingAStreamedTransactionTheSameCommandDeliversItOnceWhole) {
  execute("CREATE TABLE big (id int PRIMARY KEY, note text)");
  make_stream("big");
  TempDir dir;
  const fs::path spill = dir / "spill";
  const fs::path out = dir / "changes.jsonl";
  const auto command =
      stream_args({"--streaming", "on", "--spill-dir", spill.string(), "--streaming-memory-bytes",
                   "65536", "--output", out.string(), "--status-interval-ms", "100"});
  execute("INSERT INTO big VALUES (1, 'small before')");
  const uint64_t after_small = lsn_value(current_wal_lsn());
  HeldSession large(conninfo());
  ASSERT_EQ(large.run("BEGIN"), "");
  ASSERT_EQ(large.run("INSERT INTO big SELECT g, 'large' FROM generate_series(1000, 20999) g"), "");
  {
    ChildProcess child(vil_cdc_path(), command);
    // The small one delivered and confirmed; the large one streamed, kept
    // past 64 KiB in a spill file the process holds open.
    ASSERT_TRUE(wait_until(
        [&] { return read_text_file(out).find("small before") != std::string::npos; }, &child))
        << child.err_so_far();
    ASSERT_TRUE(wait_until([&] { return open_files_in(child.pid(), spill) > 0; }, &child))
        << "no spill file open; stderr: " << child.err_so_far();
    EXPECT_TRUE(fs::is_empty(spill)) << "a spill file has no name";
    ASSERT_TRUE(wait_until([&] { return confirmed_flush_lsn(slot_) >= after_small; }, &child))
        << "the small transaction was never confirmed";
    child.send_signal(SIGKILL);
    const ProcessResult killed = child.wait(kRunDeadline);
    EXPECT_EQ(killed.term_signal, SIGKILL) << killed.describe();
  }
  EXPECT_TRUE(fs::is_empty(spill)) << "the kill left a spill file behind";
  // Aborted work between the runs, then the large one commits.
  ASSERT_EQ(large.run("SAVEPOINT s"), "");
  ASSERT_EQ(large.run("INSERT INTO big SELECT g, 'gone' FROM generate_series(30000, 33999) g"), "");
  ASSERT_EQ(large.run("ROLLBACK TO SAVEPOINT s"), "");
  ASSERT_EQ(large.run("INSERT INTO big VALUES (21000, 'after the savepoint')"), "");
  ASSERT_EQ(large.run("COMMIT"), "");
  execute(
      "BEGIN; INSERT INTO big SELECT g, 'aborted' FROM generate_series(40000, 44999) g; "
      "ROLLBACK");
  execute("INSERT INTO big VALUES (2, 'small after')");
  ASSERT_TRUE(wait_until([&] { return !slot_active(slot_); }, nullptr));

  auto again = command;
  again.insert(again.end(), {"--end-lsn", current_wal_lsn()});
  const ProcessResult r = run_vil_cdc(again);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_TRUE(fs::is_empty(spill)) << "a spill file outlived its transaction";

  // Every row once, in commit order; the small one before the kill was
  // confirmed, so the second run starts after it.
  std::vector<int> ids;
  std::vector<std::string> notes;
  for (const Json& line : parse_lines(read_text_file(out))) {
    ids.push_back(line["after"]["id"].get<int>());
    notes.push_back(line["after"]["note"].get<std::string>());
  }
  std::vector<int> expected{1};
  for (int id = 1000; id <= 21000; ++id) expected.push_back(id);
  expected.push_back(2);
  EXPECT_EQ(ids, expected);
  ASSERT_EQ(notes.size(), expected.size());
  EXPECT_EQ(notes[1], "large");
  EXPECT_EQ(notes[notes.size() - 2], "after the savepoint");
}

TEST_F(CliStreaming, ParallelBefore16OrBelowProtocol4Exits2SayingWhy) {
  make_stream();
  if (server_major() < 16) {
    const ProcessResult r = run_vil_cdc(stream_args({"--streaming", "parallel"}));
    expect_one_line_error(
        r, 2,
        {"--streaming (cdc.streaming): parallel needs PostgreSQL 16 or later; the server is",
         std::to_string(server_major()) + "."});
  }
  const ProcessResult r =
      run_vil_cdc(stream_args({"--streaming", "parallel", "--protocol-version", "2"}));
  expect_one_line_error(
      r, 2, {"--streaming (cdc.streaming): parallel needs protocol_version 4 (or 0, the highest)"});
  const ProcessResult bad = run_vil_cdc(stream_args({"--streaming", "sometimes"}));
  expect_one_line_error(bad, 2, {"--streaming: 'sometimes' is not one of off, on, parallel"});
}

TEST_F(CliStreaming, ASpillFolderThatCannotBeMadeExits2NamingIt) {
  make_stream();
  TempDir dir;
  write_text_file(dir / "a-file", "x");
  const std::string folder = (dir / "a-file" / "spill").string();
  const ProcessResult r = run_vil_cdc(stream_args({"--streaming", "on", "--spill-dir", folder}));
  expect_one_line_error(r, 2,
                        {"--spill-dir (cdc.spill_dir): the spill folder", folder, "cannot be made",
                         "Not a directory"});
}

}  // namespace
}  // namespace vil::testing::cli
