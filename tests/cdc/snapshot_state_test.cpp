// The snapshot state file (docs/DESIGN.md §6.9, §6.10): what is saved is
// what is loaded, a missing file is an empty state, and a file of another
// slot or one vil-cdc did not write is a clear error naming it.

#include "cdc/snapshot_state.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace vil::cdc {
namespace {

class SnapshotStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char folder[] = "/tmp/vil-state-XXXXXX";
    ASSERT_NE(mkdtemp(folder), nullptr);
    dir_ = folder;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SnapshotStateTest, WhatIsSavedIsLoadedAndAMissingFileIsEmpty) {
  const std::string path = (dir_ / "deeper" / "s.json").string();  // its folder is made
  auto empty = load_snapshot_state(path, "slot_a", "pub_a");
  ASSERT_TRUE(empty) << empty.error();
  EXPECT_TRUE(empty->incremental.empty());
  EXPECT_EQ(empty->last_request_lsn, 0u);

  SnapshotState state;
  state.slot = "slot_a";
  state.publication = "pub_a";
  state.last_request_lsn = 0x1'0000'002Aull;
  IncrementalTable by_key{"public", "t", {"12", "it's \"quoted\""}, false, {}, 0, 4096};
  IncrementalTable by_blocks{"s", "big", {}, true, {{0, 128}, {256, std::nullopt}}, 16384, 7};
  state.incremental = {by_key, by_blocks};
  ASSERT_TRUE(save_snapshot_state(path, state));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp")) << "renamed over, not left behind";
  auto loaded = load_snapshot_state(path, "slot_a", "pub_a");
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(*loaded, state);
}

TEST_F(SnapshotStateTest, AnotherSlotsFileOrNoStateFileIsAnErrorNamingIt) {
  const std::string path = (dir_ / "s.json").string();
  SnapshotState state;
  state.slot = "slot_a";
  state.publication = "pub_a";
  ASSERT_TRUE(save_snapshot_state(path, state));
  auto other = load_snapshot_state(path, "slot_b", "pub_a");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error(), "snapshot state file " + path +
                               " belongs to slot \"slot_a\" and publication \"pub_a\", not to slot "
                               "\"slot_b\" and publication \"pub_a\" (give each stream its own "
                               "--snapshot-state)");
  {
    std::ofstream out(path, std::ios::trunc);
    out << "{\"something\": 1}";
  }
  auto garbage = load_snapshot_state(path, "slot_a", "pub_a");
  ASSERT_FALSE(garbage);
  EXPECT_TRUE(
      garbage.error().starts_with("snapshot state file " + path + " is not one vil-cdc wrote: "))
      << garbage.error();
}

}  // namespace
}  // namespace vil::cdc
