// `vil-cdc --help`, `vil-cdc stream --help` against docs/CONFIGURATION.md,
// and `vil-cdc demo` (which brings its own throwaway PostgreSQL).

#include <signal.h>
#include <sys/stat.h>

#include <map>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"
#include "vil/output/change_encoder.hpp"

namespace vil::testing::cli {
namespace {

TEST(CliHelp, TopLevelHelpListsTheCommands) {
  const ProcessResult r = run_vil_cdc({"--help"});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_NE(r.out.find("stream"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("demo"), std::string::npos) << r.out;
}

// The version is CMake's PROJECT_VERSION, as the library reports it.
TEST(CliHelp, VersionIsTheProjectVersion) {
  const ProcessResult r = run_vil_cdc({"--version"});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.out, fmt::format("vil-cdc {}\n", output::library_version()));
}

struct DocumentedFlag {
  std::string command;             // "stream", "demo", or "" for vil-cdc itself
  std::vector<std::string> flags;  // every spelling the row names: --quiet, -q, --no-quiet
  std::string default_;            // the default column, backticks kept
};

// The rows of docs/CONFIGURATION.md's option table that name a flag: the
// flag column is the third, the default the fourth. A flag written
// `vil-cdc demo --rate N` belongs to the demo (and so for snapshot, status
// and drop-slot), `vil-cdc --version` to the program itself, any other to
// `vil-cdc stream`.
std::vector<DocumentedFlag> documented_flags() {
  const std::string doc =
      read_text_file(std::filesystem::path(VIL_SOURCE_DIR) / "docs/CONFIGURATION.md");
  std::vector<DocumentedFlag> rows;
  static const std::regex kSpan("`([^`]*)`");
  static const std::regex kFlag("^(vil-cdc ((demo|snapshot|status|drop-slot) )?)?(--?[a-z0-9-]+)");
  for (const auto& line : lines_of(doc)) {
    if (line.rfind("| ", 0) != 0 || line.rfind("| ---", 0) == 0) continue;
    std::vector<std::string> cells;
    size_t start = 1;
    while (start < line.size()) {
      size_t bar = line.find(" | ", start);
      if (bar == std::string::npos) bar = line.rfind('|');
      if (bar <= start) break;
      cells.push_back(line.substr(start + 1, bar - start - 1));
      start = bar + 2;
    }
    if (cells.size() < 5) continue;
    DocumentedFlag row;
    for (auto it = std::sregex_iterator(cells[2].begin(), cells[2].end(), kSpan);
         it != std::sregex_iterator(); ++it) {
      const std::string span = (*it)[1];
      std::smatch m;
      if (!std::regex_search(span, m, kFlag)) continue;
      if (row.flags.empty()) {
        row.command = m[1].matched ? (m[2].matched ? m[3].str() : "") : "stream";
      }
      row.flags.push_back(m[4]);
    }
    if (row.flags.empty()) continue;
    row.default_ = cells[3];
    rows.push_back(row);
  }
  return rows;
}

// The help entry of `flag`: its line ("  -o,--output TEXT=-  ...") and the
// description CLI11 puts on the next line when the names are long; "" when
// the help does not list it.
std::string option_entry(const std::string& help, const std::string& flag) {
  const auto lines = lines_of(help);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const size_t begin = line.find_first_not_of(' ');
    if (begin == std::string::npos || line[begin] != '-') continue;
    std::string names = line.substr(begin, line.find(' ', begin) - begin);
    names = names.substr(0, names.find('='));
    bool found = false;
    size_t start = 0;
    while (start <= names.size()) {
      const size_t comma = std::min(names.find(',', start), names.size());
      std::string name = names.substr(start, comma - start);
      name = name.substr(0, name.find('{'));  // --no-fsync{false}
      found = found || name == flag;
      start = comma + 1;
    }
    if (!found) continue;
    std::string entry = line;
    for (size_t j = i + 1; j < lines.size(); ++j) {
      const size_t text = lines[j].find_first_not_of(' ');
      if (text == std::string::npos || text == 0 || lines[j][text] == '-') break;
      entry += " " + lines[j].substr(text);
    }
    return entry;
  }
  return {};
}

TEST(CliHelp, StreamHelpListsEveryDocumentedFlagWithItsDefault) {
  const auto rows = documented_flags();
  ASSERT_GE(rows.size(), 25u) << "docs/CONFIGURATION.md's table was not found";
  std::map<std::string, std::string> help;
  for (const auto& [command, args] : std::map<std::string, std::vector<std::string>>{
           {"stream", {"stream", "--help"}},
           {"demo", {"demo", "--help"}},
           {"snapshot", {"snapshot", "--help"}},
           {"status", {"status", "--help"}},
           {"drop-slot", {"drop-slot", "--help"}},
           {"", {"--help"}}}) {
    const ProcessResult r = run_vil_cdc(args);
    ASSERT_TRUE(r.exited(0)) << r.describe();
    help[command] = r.out;
  }
  static const std::regex kLiteral("^`([^`]*)`");
  for (const auto& row : rows) {
    const std::string& flag = row.flags.front();
    SCOPED_TRACE((row.command.empty() ? "vil-cdc " : "vil-cdc " + row.command + " ") + flag);
    const std::string& text = help[row.command];
    for (const auto& spelling : row.flags) {
      EXPECT_NE(option_entry(text, spelling), "") << "--help does not list " << spelling << ":\n"
                                                  << text;
    }
    const std::string entry = option_entry(text, flag);
    if (entry.empty()) continue;
    std::smatch literal;
    if (std::regex_search(row.default_, literal, kLiteral)) {
      const std::string value = literal[1];
      if (value == "false" || value == "true") {
        // A switch: off unless given (--no-messages turns `messages: true` off).
        EXPECT_EQ(entry.find('='), std::string::npos) << entry;
      } else {
        EXPECT_TRUE(std::regex_search(entry, std::regex(flag + " [A-Z:]+=" + value + "(\\s|$)")))
            << "default " << value << " not shown: " << entry;
      }
    } else if (row.default_ == "— (required)") {
      // Said in words by stream, by CLI11 (REQUIRED) elsewhere.
      EXPECT_TRUE(entry.find("required") != std::string::npos ||
                  entry.find("REQUIRED") != std::string::npos)
          << entry;
    } else if (row.default_ != "—") {
      // A default in words: the help says it the same way.
      EXPECT_NE(entry.find("(default: " + row.default_ + ")"), std::string::npos)
          << "default '" << row.default_ << "' not shown: " << entry;
    }
  }
}

// What a folder holds, for "the demo left nothing behind".
std::vector<std::string> entries_of(const std::filesystem::path& dir) {
  std::vector<std::string> left;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    left.push_back(entry.path().filename().string());
  }
  return left;
}

// A folder of its own for the demo's throwaway cluster, so that other tests'
// clusters do not matter; the server's account must be able to enter it.
class DemoDir {
 public:
  DemoDir() { EXPECT_EQ(chmod(tmp_.path().c_str(), 0755), 0); }
  std::vector<std::string> env() const { return {"TMPDIR=" + tmp_.path().string()}; }
  void expect_empty() const {
    const auto left = entries_of(tmp_.path());
    EXPECT_TRUE(left.empty()) << "the demo left " << fmt::format("{}", fmt::join(left, ", "))
                              << " in " << tmp_.path();
  }

 private:
  TempDir tmp_{"vil-cli-demo-"};
};

TEST(CliDemo, DebeziumEnvelopes) {
  DemoDir dir;
  const ProcessResult r =
      run_vil_cdc({"demo", "--max-events", "12", "--format", "debezium"}, kRunDeadline, dir.env());
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 12u) << r.out;
  for (const Json& line : lines) {
    ASSERT_TRUE(line.contains("op")) << line.dump();
    const std::string op = line["op"];
    EXPECT_TRUE(op == "c" || op == "u" || op == "d" || op == "m") << line.dump();
    EXPECT_EQ(line["source"]["connector"], "postgresql");
    EXPECT_EQ(line["source"]["db"], "shop");
  }
  dir.expect_empty();
}

// Ctrl-C: what was written is whole, the exit is 0, the cluster is gone.
TEST(CliDemo, InterruptedExitsZeroAndRemovesTheCluster) {
  DemoDir dir;
  ChildProcess child(vil_cdc_path(), {"demo", "--max-events", "1000000", "--rate", "50"},
                     dir.env());
  const auto deadline = std::chrono::steady_clock::now() + kRunDeadline;
  while (!child.finished() && lines_of(child.out_so_far()).size() < 5 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  child.send_signal(SIGINT);
  const ProcessResult r = child.wait(kRunDeadline);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto lines = parse_lines(r.out);
  EXPECT_GE(lines.size(), 5u) << r.out;
  EXPECT_NE(r.err.find("removing the cluster"), std::string::npos) << r.err;
  dir.expect_empty();
}

// At one transaction every 30 s, the writer's wait must end when the demo
// does: the first transaction (an order, with the writer's fixed seed) is
// the one change asked for.
TEST(CliDemo, SlowWriterDoesNotHoldUpTheEnd) {
  DemoDir dir;
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult r =
      run_vil_cdc({"demo", "--max-events", "1", "--rate", "0.0333"}, kRunDeadline, dir.env());
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(parse_lines(r.out).size(), 1u) << r.out;
  EXPECT_LT(took, 20s) << "the demo waited for its writer's pause";
  dir.expect_empty();
}

// Exit 1: what is neither usage, connection, slot nor stream, such as a
// demo whose cluster cannot start.
TEST(CliDemo, ClusterThatCannotStartExitsOne) {
  const ProcessResult r = run_vil_cdc({"demo", "--max-events", "3"}, kRunDeadline,
                                      {"VIL_PG_BINDIR=/nonexistent-pg-bindir"});
  EXPECT_TRUE(r.exited(1)) << r.describe();
  EXPECT_EQ(r.out, "");
  const auto err = lines_of(r.err);
  ASSERT_FALSE(err.empty());
  EXPECT_NE(err.back().find("/nonexistent-pg-bindir"), std::string::npos) << r.err;
}

TEST(CliDemo, StreamsTwentyChangesAndCleansUp) {
  // A folder of its own for the throwaway cluster, so that other tests'
  // clusters do not matter; the server's account must be able to enter it.
  TempDir tmp("vil-cli-demo-");
  ASSERT_EQ(chmod(tmp.path().c_str(), 0755), 0);
  const ProcessResult r =
      run_vil_cdc({"demo", "--max-events", "20"}, kRunDeadline, {"TMPDIR=" + tmp.path().string()});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto lines = parse_lines(r.out);
  EXPECT_EQ(lines_of(r.out).size(), 20u) << r.out;
  EXPECT_EQ(lines.size(), 20u);
  for (const Json& line : lines) {
    EXPECT_TRUE(line.contains("op")) << line.dump();
  }
  std::vector<std::string> left;
  for (const auto& entry : std::filesystem::directory_iterator(tmp.path())) {
    left.push_back(entry.path().filename().string());
  }
  EXPECT_TRUE(left.empty()) << "the demo left " << fmt::format("{}", fmt::join(left, ", "))
                            << " in " << tmp.path();
}

}  // namespace
}  // namespace vil::testing::cli
