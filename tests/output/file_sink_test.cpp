// FileSink: lines reach the file only on flush() (what the trigger confirms
// after), the change limit, and write errors that name the file.
#include "vil/output/file_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace vil::output {
namespace {

// A message outside any transaction: the smallest change to build by hand.
cdc::Change message(uint64_t lsn, std::string_view text) {
  cdc::Change change;
  change.kind = cdc::ChangeKind::Message;
  change.lsn = pgoutput::Lsn{lsn};
  change.prefix = "p";
  change.content = std::as_bytes(std::span(text.data(), text.size()));
  change.commit_time_ns = 1'795'482'360'000'000'000;
  return change;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class FileSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char folder[] = "/tmp/vil-file-sink-XXXXXX";
    ASSERT_NE(mkdtemp(folder), nullptr);
    dir_ = folder;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

constexpr std::string_view kLine1 =
    R"({"op":"message","prefix":"p","content":"one","transactional":false,"lsn":"0/10","ts":"2026-11-24T01:06:00.000000Z"})"
    "\n";
constexpr std::string_view kLine2 =
    R"({"op":"message","prefix":"p","content":"two","transactional":false,"lsn":"0/20","ts":"2026-11-24T01:06:00.000000Z"})"
    "\n";

TEST_F(FileSinkTest, LinesReachTheFileOnFlushAndAreAppended) {
  const std::string path = (dir_ / "out.jsonl").string();
  auto file = open_output_file(path, /*fsync=*/true);
  ASSERT_TRUE(file) << file.error();
  EXPECT_TRUE(file->created);
  {
    FileSinkOptions options;
    options.fsync = true;
    FileSink sink(file->fd, file->name, ChangeEncoder{}, options);
    sink.on_change(message(0x10, "one"));
    EXPECT_EQ(read_file(path), "") << "nothing is written before flush()";
    sink.flush();
    EXPECT_EQ(read_file(path), kLine1);
    EXPECT_EQ(sink.changes(), 1u);
  }
  close_output_file(*file);
  // Opened again: appended to, not created.
  auto again = open_output_file(path, false);
  ASSERT_TRUE(again) << again.error();
  EXPECT_FALSE(again->created);
  FileSink sink(again->fd, again->name, ChangeEncoder{});
  sink.on_change(message(0x20, "two"));
  sink.flush();
  close_output_file(*again);
  EXPECT_EQ(read_file(path), std::string(kLine1) + std::string(kLine2));
}

TEST_F(FileSinkTest, ALastLineLeftUnfinishedByAKilledRunIsCutBeforeAppending) {
  const std::string path = (dir_ / "torn.jsonl").string();
  // Longer than one read block, so that the search for the last newline
  // crosses blocks.
  const std::string whole = std::string(kLine1) + std::string(kLine1);
  const std::string torn(5000, 'x');
  for (const auto& [before, after] :
       std::vector<std::pair<std::string, std::string>>{{whole + R"({"op":"rea)", whole},
                                                        {whole + torn, whole},
                                                        {torn, ""},
                                                        {whole, whole},
                                                        {"", ""}}) {
    {
      std::ofstream out(path, std::ios::trunc);
      out << before;
    }
    auto file = open_output_file(path, false);
    ASSERT_TRUE(file) << file.error();
    FileSink sink(file->fd, file->name, ChangeEncoder{});
    sink.on_change(message(0x20, "two"));
    sink.flush();
    close_output_file(*file);
    EXPECT_EQ(read_file(path), after + std::string(kLine2)) << before.size();
  }
}

TEST_F(FileSinkTest, TheLimitStopsAfterTheLastChangeAllowed) {
  const std::string path = (dir_ / "limit.jsonl").string();
  auto file = open_output_file(path, false);
  ASSERT_TRUE(file);
  int limits = 0;
  FileSink sink(file->fd, file->name, ChangeEncoder{},
                {.max_changes = 1, .on_limit = [&] { ++limits; }});
  sink.on_change(message(0x10, "one"));  // outside a transaction: the limit at once
  EXPECT_EQ(limits, 1);
  sink.on_change(message(0x20, "two"));  // not written
  sink.flush();
  close_output_file(*file);
  EXPECT_EQ(limits, 1) << "on_limit runs once";
  EXPECT_EQ(read_file(path), kLine1);
}

TEST_F(FileSinkTest, AWriteThatFailsThrowsAndNamesTheOutput) {
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (full < 0) GTEST_SKIP() << "no /dev/full here";
  FileSink sink(full, "/dev/full", ChangeEncoder{});
  sink.on_change(message(0x10, "one"));
  try {
    sink.flush();
    ADD_FAILURE() << "flush() to a full device did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("writing to /dev/full failed"), std::string::npos)
        << e.what();
  }
  ::close(full);
}

TEST_F(FileSinkTest, AFolderThatDoesNotExistIsAClearError) {
  const std::string path = (dir_ / "missing" / "out.jsonl").string();
  auto file = open_output_file(path, false);
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error(), "cannot open output " + path + ": No such file or directory");
}

}  // namespace
}  // namespace vil::output
