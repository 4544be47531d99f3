// StreamedTransactions: what is kept of transactions the server streams,
// in memory and in spill files, and what commit, abort and subtransaction
// aborts leave of it.

#include "cdc/streamed_transactions.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace vil::cdc {
namespace {

namespace fs = std::filesystem;

// A folder of its own per test, removed at the end.
class StreamedTransactionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = (fs::temp_directory_path() / "vil-streamed-XXXXXX").string();
    ASSERT_NE(mkdtemp(name.data()), nullptr);
    dir_ = name;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A change whose body is `text`, kept for `xid` as made by `subxid`.
  static void keep(StreamedTransactions& kept, uint32_t xid, uint32_t subxid, uint64_t lsn,
                   const std::string& text) {
    auto r = kept.append(xid, subxid, lsn, std::byte{'I'},
                         std::as_bytes(std::span(text.data(), text.size())));
    ASSERT_TRUE(r) << r.error();
  }

  // What replay gives, as "lsn:body" (the type byte checked on the way).
  static std::vector<std::string> replay(StreamedTransactions& kept, uint32_t xid) {
    std::vector<std::string> seen;
    auto r = kept.replay(xid, [&](uint64_t lsn, std::span<const std::byte> message) {
      EXPECT_EQ(message[0], std::byte{'I'});
      seen.push_back(
          std::to_string(lsn) + ":" +
          std::string(reinterpret_cast<const char*>(message.data()) + 1, message.size() - 1));
      return true;
    });
    EXPECT_TRUE(r && *r);
    return seen;
  }

  [[nodiscard]] size_t files_in_dir() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }

  fs::path dir_;
};

TEST_F(StreamedTransactionsTest, ReplaysTheChangesOfOneTransactionInOrderThenForgetsIt) {
  StreamedTransactions kept(1 << 20, dir_);
  keep(kept, 700, 700, 10, "a");
  keep(kept, 701, 701, 11, "other");
  keep(kept, 700, 700, 12, "b");
  EXPECT_EQ(kept.open(), 2U);
  EXPECT_EQ(replay(kept, 700), (std::vector<std::string>{"10:a", "12:b"}));
  EXPECT_EQ(kept.open(), 1U);
  EXPECT_TRUE(replay(kept, 700).empty());  // forgotten
  EXPECT_EQ(replay(kept, 701), (std::vector<std::string>{"11:other"}));
  EXPECT_EQ(kept.memory_bytes(), 0U);
  EXPECT_EQ(kept.spilled_bytes(), 0U);
}

TEST_F(StreamedTransactionsTest, AnAbortedTransactionLeavesNothing) {
  StreamedTransactions kept(1 << 20, dir_);
  keep(kept, 700, 700, 10, "a");
  keep(kept, 700, 701, 11, "b");
  ASSERT_TRUE(kept.abort(700, 700));
  EXPECT_EQ(kept.open(), 0U);
  EXPECT_EQ(kept.memory_bytes(), 0U);
  EXPECT_TRUE(replay(kept, 700).empty());
  // An abort of what was never kept is no error.
  EXPECT_TRUE(kept.abort(900, 900));
  EXPECT_TRUE(kept.abort(900, 901));
}

TEST_F(StreamedTransactionsTest, ASubtransactionAbortDropsItsChangesAndThoseOfItsChildren) {
  StreamedTransactions kept(1 << 20, dir_);
  keep(kept, 700, 700, 10, "top before");
  keep(kept, 700, 701, 11, "sub 701 kept");  // released into 700
  keep(kept, 700, 702, 12, "sub 702");
  keep(kept, 700, 703, 13, "sub 703 inside 702");
  keep(kept, 700, 702, 14, "sub 702 again");
  ASSERT_TRUE(kept.abort(700, 702));
  keep(kept, 700, 700, 15, "top after");
  keep(kept, 700, 704, 16, "sub 704");
  // 703 was inside 702: its abort comes too, and finds nothing left.
  ASSERT_TRUE(kept.abort(700, 703));
  EXPECT_EQ(replay(kept, 700), (std::vector<std::string>{"10:top before", "11:sub 701 kept",
                                                         "15:top after", "16:sub 704"}));
}

TEST_F(StreamedTransactionsTest, PastTheMemoryLimitTheLargestGoesToASpillFileWithNoName) {
  constexpr uint64_t kLimit = 256u << 10;
  StreamedTransactions kept(kLimit, dir_);
  ASSERT_TRUE(kept.check_spill_dir());
  const std::string row(100, 'x');
  keep(kept, 800, 800, 1, "small");
  for (uint64_t i = 0; i < 20'000; ++i) keep(kept, 700, 700, 100 + i, row + std::to_string(i));
  EXPECT_GT(kept.spilled_bytes(), 1'000'000U);
  EXPECT_EQ(kept.spilled_transactions(), 1U);
  EXPECT_LE(kept.memory_bytes(), kLimit + (256u << 10));
  EXPECT_EQ(files_in_dir(), 0U) << "a spill file has no name";

  const auto seen = replay(kept, 700);
  ASSERT_EQ(seen.size(), 20'000U);
  for (uint64_t i = 0; i < 20'000; ++i) {
    ASSERT_EQ(seen[i], std::to_string(100 + i) + ":" + row + std::to_string(i)) << i;
  }
  EXPECT_EQ(replay(kept, 800), (std::vector<std::string>{"1:small"}));
  EXPECT_EQ(kept.memory_bytes(), 0U);
}

TEST_F(StreamedTransactionsTest, ASubtransactionAbortReachesIntoTheSpillFile) {
  StreamedTransactions kept(64u << 10, dir_);
  const std::string row(200, 'y');
  for (int i = 0; i < 1000; ++i) keep(kept, 700, 700, i, "top");
  for (int i = 0; i < 2000; ++i) keep(kept, 700, 701, 1000 + i, row);  // mostly in the file
  ASSERT_GT(kept.spilled_bytes(), 200'000U);  // 701's first change is in the file
  ASSERT_TRUE(kept.abort(700, 701));
  keep(kept, 700, 700, 5000, "after");
  const auto seen = replay(kept, 700);
  ASSERT_EQ(seen.size(), 1001U);
  EXPECT_EQ(seen[999], "999:top");
  EXPECT_EQ(seen[1000], "5000:after");
}

TEST_F(StreamedTransactionsTest, TwoInterleavedTransactionsEachReplayTheirOwn) {
  StreamedTransactions kept(64u << 10, dir_);
  for (int i = 0; i < 3000; ++i) {
    keep(kept, 700, 700, 2 * i, "A" + std::to_string(i));
    keep(kept, 701, 701, 2 * i + 1, "B" + std::to_string(i));
  }
  EXPECT_GT(kept.spilled_bytes(), 0U);
  const auto b = replay(kept, 701);
  const auto a = replay(kept, 700);
  ASSERT_EQ(a.size(), 3000U);
  ASSERT_EQ(b.size(), 3000U);
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(a[i], std::to_string(2 * i) + ":A" + std::to_string(i));
    ASSERT_EQ(b[i], std::to_string(2 * i + 1) + ":B" + std::to_string(i));
  }
}

TEST_F(StreamedTransactionsTest, ARecordLargerThanTheReadBufferComesBackWhole) {
  StreamedTransactions kept(64u << 10, dir_);
  const std::string huge(3u << 20, 'h');
  keep(kept, 700, 700, 1, "before");
  keep(kept, 700, 700, 2, huge);
  keep(kept, 700, 700, 3, "after");
  const auto seen = replay(kept, 700);
  ASSERT_EQ(seen.size(), 3U);
  EXPECT_EQ(seen[1], "2:" + huge);
  EXPECT_EQ(seen[2], "3:after");
}

TEST_F(StreamedTransactionsTest, ReplayStopsWhenAskedAndForgetsTheRest) {
  StreamedTransactions kept(1 << 20, dir_);
  for (int i = 0; i < 5; ++i) keep(kept, 700, 700, i, "c");
  int calls = 0;
  auto r = kept.replay(700, [&](uint64_t, std::span<const std::byte>) { return ++calls < 2; });
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(kept.open(), 0U);
}

TEST_F(StreamedTransactionsTest, TheSpillFolderIsMadeAndLeftoversOfACrashAreRemoved) {
  const fs::path folder = dir_ / "made" / "here";
  { std::ofstream(dir_ / "unrelated.txt") << "kept"; }
  StreamedTransactions kept(1 << 20, folder);
  ASSERT_TRUE(kept.check_spill_dir());
  EXPECT_TRUE(fs::is_directory(folder));
  { std::ofstream(folder / "vil-cdc-spill-Ab12Cd") << "left by a crash"; }
  ASSERT_TRUE(kept.check_spill_dir());
  EXPECT_FALSE(fs::exists(folder / "vil-cdc-spill-Ab12Cd"));
  EXPECT_TRUE(fs::exists(dir_ / "unrelated.txt"));
}

TEST_F(StreamedTransactionsTest, AFolderThatCannotBeMadeIsNamedWithTheCause) {
  { std::ofstream(dir_ / "a-file") << "x"; }
  StreamedTransactions kept(1 << 20, dir_ / "a-file" / "spill");
  auto r = kept.check_spill_dir();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find((dir_ / "a-file" / "spill").string()), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("Not a directory"), std::string::npos) << r.error();
}

TEST_F(StreamedTransactionsTest, ASpillFileThatCannotGrowIsAnErrorNamingTheFolderAndTheCause) {
  // A file size limit stands in for a full disk: writes past it fail
  // (EFBIG) instead of the process being signalled.
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &before), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = before;
  small.rlim_cur = 1u << 20;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  StreamedTransactions kept(64u << 10, dir_);
  const std::string row(1000, 'z');
  std::string error;
  for (int i = 0; i < 5000 && error.empty(); ++i) {
    auto r =
        kept.append(700, 700, i, std::byte{'I'}, std::as_bytes(std::span(row.data(), row.size())));
    if (!r) error = r.error();
  }
  setrlimit(RLIMIT_FSIZE, &before);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(error.empty()) << "5 MB went into a file limited to 1 MB";
  EXPECT_EQ(error, "cannot write a spill file in " + dir_.string() + ": File too large");
  // What was kept can still be dropped.
  EXPECT_TRUE(kept.abort(700, 700));
  EXPECT_EQ(kept.open(), 0U);
}

}  // namespace
}  // namespace vil::cdc
