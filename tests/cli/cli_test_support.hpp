// Shared pieces of the vil-cdc end-to-end tests: running the real binary,
// reading its lines, and a fixture with a publication and a slot in the
// test's own database of the throwaway cluster.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/child_process.hpp"
#include "support/pg_fixture.hpp"

namespace vil::testing::cli {

using Json = nlohmann::ordered_json;
using namespace std::chrono_literals;

// Long enough for a loaded machine; a run that outlives it is a hang.
constexpr std::chrono::milliseconds kRunDeadline = 60s;

const std::string& vil_cdc_path();
ProcessResult run_vil_cdc(const std::vector<std::string>& args,
                          std::chrono::milliseconds deadline = kRunDeadline,
                          const std::vector<std::string>& env = {});

// The lines of `text`, without their '\n'; a last line without one is
// reported as a failure (and returned).
std::vector<std::string> lines_of(const std::string& text);
// Every line parsed (a line that does not parse is a failure and skipped).
std::vector<Json> parse_lines(const std::string& text);

// "16/B374D848" -> 0x16B374D848; throws on anything else.
uint64_t lsn_value(std::string_view text);

std::string read_text_file(const std::filesystem::path& path);
void write_text_file(const std::filesystem::path& path, std::string_view text);

// A fresh folder under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "vil-cli-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Expects exit `code`, nothing on stdout and exactly one line on stderr that
// contains every one of `needles`.
void expect_one_line_error(const ProcessResult& r, int code,
                           std::initializer_list<std::string_view> needles);

// The resident memory of process `pid` now, in kB (VmRSS); 0 when unknown.
uint64_t resident_kb(pid_t pid);

// Commits `transactions` transactions on a connection of its own, on a thread
// of its own, `statement(i)` for i from 1, with `pause` between them; until
// done or destroyed.
class BackgroundWriter {
 public:
  BackgroundWriter(const std::string& conninfo, int transactions,
                   std::function<std::string(int)> statement, std::chrono::microseconds pause);
  ~BackgroundWriter();
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;

  // How many have committed so far.
  [[nodiscard]] int written() const { return written_.load(); }
  // Waits until all are committed; false (with the failure added to the
  // test) when one failed.
  bool join();

 private:
  std::atomic<int> written_{0};
  std::atomic<bool> stop_{false};
  std::string error_;
  std::thread thread_;
};

// Polls `condition` until it holds; false if `child` ended first or the
// deadline passed.
bool wait_until(const std::function<bool()>& condition, const ChildProcess* child,
                std::chrono::milliseconds deadline = kRunDeadline);

class CliTest : public PgTest {
 protected:
  // Creates a publication (FOR ALL TABLES, or FOR TABLE `tables`) and a
  // pgoutput slot, named uniquely; stored in slot_ and publication_.
  void make_stream(std::string_view tables = {});
  // "stream --conn <this test's db> --slot <slot_> --publication <publication_> --quiet",
  // then `more`.
  std::vector<std::string> stream_args(std::initializer_list<std::string> more = {}) const;

  std::string current_wal_lsn() const { return query_value("SELECT pg_current_wal_lsn()"); }
  // The slot's confirmed_flush_lsn as a number.
  uint64_t confirmed_flush_lsn(const std::string& slot) const;
  bool slot_exists(const std::string& slot) const;
  bool slot_active(const std::string& slot) const;

  // Runs `command` (vil-cdc's arguments) `kills` times, each run killed
  // with SIGKILL after 250 to 550 ms (drawn from `seed`) and the slot let go
  // before the next.
  void kill_repeatedly(const std::vector<std::string>& command, int kills, uint32_t seed) const;

  std::string slot_;
  std::string publication_;
};

}  // namespace vil::testing::cli
