#include "cli/cli_test_support.hpp"

#include <libpq-fe.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#ifndef VIL_CDC_PATH
#error "VIL_CDC_PATH (the vil-cdc binary) is set by tests/cli/CMakeLists.txt"
#endif

namespace vil::testing::cli {

const std::string& vil_cdc_path() {
  static const std::string path = VIL_CDC_PATH;
  return path;
}

ProcessResult run_vil_cdc(const std::vector<std::string>& args, std::chrono::milliseconds deadline,
                          const std::vector<std::string>& env) {
  ProcessResult r = run_process(vil_cdc_path(), args, deadline, env);
  EXPECT_FALSE(r.timed_out) << "vil-cdc " << fmt::format("{}", fmt::join(args, " "))
                            << " hung: " << r.describe();
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      ADD_FAILURE() << "the last line has no newline (a partial line): " << text.substr(start, 200);
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::vector<Json> parse_lines(const std::string& text) {
  std::vector<Json> out;
  size_t number = 0;
  for (const auto& line : lines_of(text)) {
    ++number;
    try {
      out.push_back(Json::parse(line));
    } catch (const Json::exception& e) {
      ADD_FAILURE() << "line " << number << " is not JSON (" << e.what() << "): " << line;
    }
  }
  return out;
}

uint64_t lsn_value(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) {
    throw std::invalid_argument(fmt::format("'{}' is not an LSN", text));
  }
  const std::string hi(text.substr(0, slash));
  const std::string lo(text.substr(slash + 1));
  for (char c : hi + lo) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
      throw std::invalid_argument(fmt::format("'{}' is not an upper-case hex LSN", text));
    }
  }
  return std::stoull(hi, nullptr, 16) << 32 | std::stoull(lo, nullptr, 16);
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text_file(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path.string()));
}

TempDir::TempDir(std::string_view prefix) {
  std::string pattern = fmt::format("/tmp/{}XXXXXX", prefix);
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(fmt::format("mkdtemp {} failed", pattern));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void expect_one_line_error(const ProcessResult& r, int code,
                           std::initializer_list<std::string_view> needles) {
  EXPECT_TRUE(r.exited(code)) << "expected exit " << code << "; " << r.describe();
  EXPECT_EQ(r.out, "") << "stdout should be empty";
  EXPECT_TRUE(!r.err.empty() && r.err.back() == '\n' && r.err.find('\n') == r.err.size() - 1)
      << "stderr should be exactly one line:\n"
      << r.err;
  for (auto needle : needles) {
    EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr does not name '" << needle << "':\n"
                                                     << r.err;
  }
}

void CliTest::make_stream(std::string_view tables) {
  slot_ = unique_name("slot");
  publication_ = unique_name("pub");
  execute("CREATE PUBLICATION " + publication_ +
          (tables.empty() ? std::string(" FOR ALL TABLES") : " FOR TABLE " + std::string(tables)));
  execute("SELECT pg_create_logical_replication_slot('" + slot_ + "', 'pgoutput')");
}

std::vector<std::string> CliTest::stream_args(std::initializer_list<std::string> more) const {
  std::vector<std::string> args{"stream", "--conn",        conninfo(),   "--slot",
                                slot_,    "--publication", publication_, "--quiet"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

uint64_t CliTest::confirmed_flush_lsn(const std::string& slot) const {
  return lsn_value(query_value(
      "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + slot + "'"));
}

bool CliTest::slot_exists(const std::string& slot) const {
  return query_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot +
                     "'") == "1";
}

bool CliTest::slot_active(const std::string& slot) const {
  return query_value("SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name = '" +
                     slot + "'") == "1";
}

bool wait_until(const std::function<bool()>& condition, const ChildProcess* child,
                std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    if (child != nullptr && child->finished()) return condition();
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void CliTest::kill_repeatedly(const std::vector<std::string>& command, int kills,
                              uint32_t seed) const {
  std::mt19937 random(seed);
  for (int kill = 0; kill < kills; ++kill) {
    ChildProcess child(vil_cdc_path(), command);
    std::this_thread::sleep_for(std::chrono::milliseconds(250 + random() % 300));
    EXPECT_FALSE(child.finished()) << child.wait(1ms).describe();
    child.send_signal(SIGKILL);
    (void)child.wait(kRunDeadline);
    // The walsender notices the lost client before a new run may take the slot.
    ASSERT_TRUE(wait_until([&] { return !slot_active(slot_); }, nullptr));
  }
}

uint64_t resident_kb(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6));
  }
  return 0;
}

BackgroundWriter::BackgroundWriter(const std::string& conninfo, int transactions,
                                   std::function<std::string(int)> statement,
                                   std::chrono::microseconds pause)
    : thread_([this, conninfo, transactions, statement = std::move(statement), pause] {
        PGconn* conn = PQconnectdb(conninfo.c_str());
        if (PQstatus(conn) != CONNECTION_OK) error_ = PQerrorMessage(conn);
        for (int i = 1; i <= transactions && error_.empty() && !stop_; ++i) {
          PGresult* result = PQexec(conn, statement(i).c_str());
          if (PQresultStatus(result) != PGRES_COMMAND_OK &&
              PQresultStatus(result) != PGRES_TUPLES_OK) {
            error_ = fmt::format("transaction {}: {}", i, PQresultErrorMessage(result));
          } else {
            written_ = i;
          }
          PQclear(result);
          std::this_thread::sleep_for(pause);
        }
        PQfinish(conn);
      }) {}

BackgroundWriter::~BackgroundWriter() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

bool BackgroundWriter::join() {
  if (thread_.joinable()) thread_.join();
  if (!error_.empty()) ADD_FAILURE() << "the writer failed: " << error_;
  return error_.empty();
}

}  // namespace vil::testing::cli
