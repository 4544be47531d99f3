// An initial snapshot cut short by kill -9, then the identical command
// again (docs/DESIGN.md §6.10): the output of all runs, applied in order as
// a consumer would (reads and inserts as upserts by key, updates likewise,
// deletes as deletes), is exactly the table, and what was read again is at
// most the ranges in flight at each kill.

#include <signal.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"

namespace vil::testing::cli {
namespace {

class CliSnapshotResume : public CliTest {
 protected:
  // id -> v, as SELECT sees it now.
  std::map<int, std::string> table_content() {
    std::map<int, std::string> out;
    for (const auto& row : query("SELECT id, v FROM big")) out[std::stoi(*row[0])] = *row[1];
    return out;
  }
};

// Lines of the output file so far; `offset` and `count` carry on between calls.
size_t count_lines(const std::filesystem::path& file, size_t& offset, size_t& count) {
  std::FILE* f = std::fopen(file.c_str(), "r");
  if (f == nullptr) return count;
  std::fseek(f, static_cast<long>(offset), SEEK_SET);
  char buffer[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) {
    for (size_t i = 0; i < n; ++i) count += buffer[i] == '\n' ? 1 : 0;
    offset += n;
  }
  std::fclose(f);
  return count;
}

TEST_F(CliSnapshotResume, KilledInTheMiddleTheSameCommandFinishesWithExactlyTheTable) {
  constexpr int kRows = 400'000;
  execute("CREATE TABLE big (id int PRIMARY KEY, v text NOT NULL)");
  execute(
      fmt::format("INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, {}) g", kRows));
  execute("ANALYZE big");
  const uint64_t pages =
      std::stoull(query_value("SELECT relpages FROM pg_class WHERE relname = 'big'"));
  const double per_block = kRows / static_cast<double>(pages);
  execute("CREATE PUBLICATION pub_big FOR TABLE big");
  TempDir dir;
  const std::string slot = unique_name("resume");
  // Units of 128 blocks (about 20000 rows) so that a kill lands in the
  // middle; two workers.
  const std::vector<std::string> command = {"stream",
                                            "--conn",
                                            conninfo(),
                                            "--slot",
                                            slot,
                                            "--publication",
                                            "pub_big",
                                            "--create-slot",
                                            "--snapshot",
                                            "initial",
                                            "--snapshot-workers",
                                            "2",
                                            "--snapshot-unit-blocks",
                                            "128",
                                            "--snapshot-chunk-size",
                                            "20000",
                                            "--snapshot-state",
                                            (dir / "state.json").string(),
                                            "--output",
                                            (dir / "out.jsonl").string(),
                                            "--quiet",
                                            "--status-interval-ms",
                                            "200"};
  size_t offset = 0;
  size_t lines = 0;
  const auto run_until = [&](size_t more, int kills) {
    const size_t target = lines + more;
    ChildProcess child(vil_cdc_path(), command);
    const bool reached =
        wait_until([&] { return count_lines(dir / "out.jsonl", offset, lines) >= target; }, &child);
    ASSERT_TRUE(reached) << "run " << kills << ": " << lines << " lines; "
                         << child.wait(1ms).describe();
    child.send_signal(SIGKILL);
    (void)child.wait(kRunDeadline);
    count_lines(dir / "out.jsonl", offset, lines);
  };
  // Killed early, changed while nothing runs, killed twice more while the
  // rest is read as an incremental snapshot.
  run_until(5'000, 1);
  EXPECT_LT(lines, static_cast<size_t>(kRows)) << "the first run read everything before the kill";
  EXPECT_EQ(query_value(fmt::format(
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{}'", slot)),
            "1")
      << "the slot survives the kill";
  // What is left is kept as block ranges.
  EXPECT_NE(read_text_file(dir / "state.json").find("\"ranges\""), std::string::npos)
      << read_text_file(dir / "state.json");
  execute("UPDATE big SET v = 'changed' WHERE id % 1000 = 7");
  execute("DELETE FROM big WHERE id % 1000 = 8");
  execute("UPDATE big SET id = id + 1000000 WHERE id % 1000 = 9");
  execute("INSERT INTO big SELECT g, 'late' FROM generate_series(500001, 500100) g");
  run_until(60'000, 2);
  execute("DELETE FROM big WHERE id % 1000 = 17");
  run_until(60'000, 3);

  // The last run finishes; a sentinel tells that the stream caught up.
  ChildProcess last(vil_cdc_path(), command);
  ASSERT_TRUE(wait_until(
      [&] {
        return read_text_file(dir / "state.json").find("\"incremental\": []") != std::string::npos;
      },
      &last, 180s))
      << read_text_file(dir / "state.json") << last.wait(1ms).describe();
  execute("INSERT INTO big VALUES (-1, 'sentinel')");
  ASSERT_TRUE(wait_until(
      [&] {
        count_lines(dir / "out.jsonl", offset, lines);
        return read_text_file(dir / "out.jsonl").find("\"sentinel\"") != std::string::npos;
      },
      &last, 180s))
      << last.wait(1ms).describe();
  last.send_signal(SIGINT);
  ASSERT_TRUE(last.wait(kRunDeadline).exited(0));

  std::map<int, std::string> applied;
  size_t reads = 0;
  for (const Json& line : parse_lines(read_text_file(dir / "out.jsonl"))) {
    const std::string op = line["op"];
    if (op == "read" || op == "insert" || op == "update") {
      if (op == "read") ++reads;
      if (op == "update" && line["before"].is_object())
        applied.erase(line["before"]["id"].get<int>());
      applied[line["after"]["id"].get<int>()] = line["after"]["v"].get<std::string>();
    } else if (op == "delete") {
      applied.erase(line["before"]["id"].get<int>());
    }
  }
  const auto want = table_content();
  EXPECT_EQ(applied.size(), want.size());
  EXPECT_TRUE(applied == want) << "the applied output differs from the table";
  // Read again, at most: per kill, the two workers' units in flight (128
  // blocks each) and the chunk in flight. (The stream's changes since the
  // snapshot began are delivered again too, as at-least-once says.)
  const auto unit_rows = static_cast<size_t>(128 * per_block);
  RecordProperty("reads", std::to_string(reads));
  EXPECT_LE(reads, kRows + 100 + 3 * (2 * unit_rows + 20'000)) << "reads: " << reads;
  EXPECT_GE(reads, static_cast<size_t>(kRows) - 2000);
}

}  // namespace
}  // namespace vil::testing::cli
