// `vil-cdc --help`, `vil-cdc stream --help` against docs/CONFIGURATION.md,
// and `vil-cdc demo` (which brings its own throwaway PostgreSQL).

#include <sys/stat.h>

#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"

namespace vil::testing::cli {
namespace {

TEST(CliHelp, TopLevelHelpListsTheCommands) {
  const ProcessResult r = run_vil_cdc({"--help"});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_NE(r.out.find("stream"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("demo"), std::string::npos) << r.out;
}

struct DocumentedFlag {
  std::string flag;      // "--status-interval-ms"
  std::string default_;  // "10000", or "" when the table gives no literal value
};

// The `vil-cdc stream` flag column of docs/CONFIGURATION.md's table, with
// the default column's value when it is a plain `literal`.
std::vector<DocumentedFlag> documented_flags() {
  const std::string doc =
      read_text_file(std::filesystem::path(VIL_SOURCE_DIR) / "docs/CONFIGURATION.md");
  std::vector<DocumentedFlag> flags;
  static const std::regex kFlag("`(--[a-z0-9-]+)[^`]*`");
  static const std::regex kLiteral("^ *`([^`]*)`");
  for (const auto& line : lines_of(doc)) {
    if (line.rfind("| `", 0) != 0) continue;
    // | yaml | field | flag | default | meaning |
    std::vector<std::string> cells;
    size_t start = 1;
    while (start < line.size()) {
      size_t bar = line.find(" | ", start);
      if (bar == std::string::npos) bar = line.rfind('|');
      if (bar <= start) break;
      cells.push_back(line.substr(start, bar - start));
      start = bar + 2;
    }
    if (cells.size() < 4) continue;
    std::smatch flag;
    if (!std::regex_search(cells[2], flag, kFlag)) continue;
    std::smatch literal;
    std::string value;
    if (std::regex_search(cells[3], literal, kLiteral)) value = literal[1];
    flags.push_back({flag[1], value});
  }
  return flags;
}

// The help line that names `flag` ("  -o,--output TEXT=-  ..."), or "".
std::string option_line(const std::string& help, const std::string& flag) {
  for (const auto& line : lines_of(help)) {
    const size_t begin = line.find_first_not_of(' ');
    if (begin == std::string::npos || line[begin] != '-') continue;
    std::string names = line.substr(begin, line.find(' ', begin) - begin);
    names = names.substr(0, names.find('='));
    size_t start = 0;
    while (start <= names.size()) {
      const size_t comma = std::min(names.find(',', start), names.size());
      if (names.substr(start, comma - start) == flag) return line;
      start = comma + 1;
    }
  }
  return {};
}

TEST(CliHelp, StreamHelpListsEveryDocumentedFlagWithItsDefault) {
  const auto flags = documented_flags();
  ASSERT_GE(flags.size(), 10u) << "docs/CONFIGURATION.md's table was not found";
  const ProcessResult r = run_vil_cdc({"stream", "--help"});
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const std::string& help = r.out;
  for (const auto& [flag, value] : flags) {
    SCOPED_TRACE(flag);
    const std::string entry = option_line(help, flag);
    ASSERT_NE(entry, "") << "stream --help does not list " << flag << ":\n" << help;
    if (value == "false" || value == "true") {
      // A switch: its default is that it is off (--no-messages turns
      // `messages: true` off).
      EXPECT_EQ(entry.find('='), std::string::npos) << entry;
    } else if (!value.empty()) {
      EXPECT_TRUE(std::regex_search(entry, std::regex(flag + " [A-Z]+=" + value + "\\b")))
          << "default " << value << " not shown: " << entry;
    }
  }
  // What the table has no literal default for.
  for (const char* required : {"--conn", "--slot", "--publication"}) {
    EXPECT_NE(option_line(help, required).find("required"), std::string::npos) << required;
  }
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
