#include "vil/log/dictionary.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "vil/log/fx_hash.hpp"

namespace {

using vil::log::Dictionary;

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         (name + "." + std::to_string(::getpid()) + ".json");
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

constexpr std::string_view kThreeNames =
    "{\n"
    "  \"1995649024\": {\n"
    "    \"hash64\": 4227649376462516224,\n"
    "    \"value\": \"cdc\"\n"
    "  },\n"
    "  \"2900713799\": {\n"
    "    \"hash64\": 305953638908780871,\n"
    "    \"value\": \"orders\"\n"
    "  },\n"
    "  \"4119353320\": {\n"
    "    \"hash64\": 11917406164474157032,\n"
    "    \"value\": \"vil_pub\"\n"
    "  }\n"
    "}\n";

TEST(Dictionary, RegisterAndLookup) {
  Dictionary names;
  EXPECT_EQ(names.register_str("orders"), 0xace56147u);
  EXPECT_EQ(names.register_str("orders"), 0xace56147u);
  EXPECT_EQ(names.size(), 1u);
  EXPECT_EQ(names.lookup(0xace56147u), "orders");
  EXPECT_EQ(names.lookup(0x12345678u), std::nullopt);
}

TEST(Dictionary, SaveLoadRoundTripThroughAFile) {
  Dictionary names;
  names.register_str("vil_pub");
  names.register_str("cdc");
  names.register_str("orders");
  const auto path = temp_path("vil_dictionary_round_trip");
  ASSERT_TRUE(names.save(path));
  EXPECT_EQ(read_all(path), kThreeNames);

  Dictionary loaded;
  const auto added = loaded.load(path);
  ASSERT_TRUE(added) << added.error();
  EXPECT_EQ(*added, 3u);
  EXPECT_EQ(loaded.lookup(0x76f33000u), "cdc");
  EXPECT_EQ(loaded.lookup(0xace56147u), "orders");
  EXPECT_EQ(loaded.lookup(0xf58857e8u), "vil_pub");
  EXPECT_EQ(loaded.to_json(), kThreeNames);
  std::filesystem::remove(path);
}

TEST(Dictionary, EmptySavesAsEmptyObject) {
  Dictionary names;
  EXPECT_EQ(names.to_json(), "{}\n");
}

TEST(Dictionary, UnicodeRoundTrips) {
  Dictionary names;
  const std::uint32_t hash = names.register_str("héllo wörld ✓");
  EXPECT_EQ(hash, 0x4aa5932bu);
  Dictionary loaded;
  ASSERT_TRUE(loaded.merge_json(names.to_json()));
  EXPECT_EQ(loaded.lookup(hash), "héllo wörld ✓");
}

TEST(Dictionary, InvalidUtf8IsSavedReplacedUnderItsOwnHash) {
  Dictionary names;
  const std::uint32_t hash = names.register_str("caf\xe9");
  Dictionary loaded;
  ASSERT_TRUE(loaded.merge_json(names.to_json()));
  EXPECT_EQ(loaded.lookup(hash), "caf\xef\xbf\xbd");
}

TEST(Dictionary, MergeKeepsExistingEntries) {
  Dictionary names;
  names.register_str("cdc");
  const auto added = names.merge_json(
      R"({"1995649024": {"value": "cdc", "hash64": 4227649376462516224},
          "2900713799": {"value": "orders", "hash64": 305953638908780871}})");
  ASSERT_TRUE(added);
  EXPECT_EQ(*added, 1u);
  EXPECT_EQ(names.size(), 2u);
}

TEST(Dictionary, BadFilesAreRejectedWithTheirCause) {
  Dictionary names;
  EXPECT_EQ(names.merge_json("{").error(), "dictionary is not valid JSON");
  EXPECT_EQ(names.merge_json("[]").error(), "dictionary must be a JSON object");
  EXPECT_EQ(names.merge_json(R"({"x": {"value": "a", "hash64": 1}})").error(),
            "dictionary key \"x\" is not a 32-bit unsigned decimal number");
  EXPECT_EQ(names.merge_json(R"({"4294967296": {"value": "a", "hash64": 1}})").error(),
            "dictionary key \"4294967296\" is not a 32-bit unsigned decimal number");
  EXPECT_EQ(names.merge_json(R"({"1": {"value": 5, "hash64": 1}})").error(),
            "dictionary entry \"1\" must be an object with a string \"value\" and an unsigned "
            "\"hash64\"");
  EXPECT_EQ(names.merge_json(R"({"1": {"value": "a", "hash64": 2}})").error(),
            "dictionary entry \"1\": hash64 2 does not truncate to the key");
  // A bad entry anywhere adds nothing.
  EXPECT_FALSE(names.merge_json(R"({"1": {"value": "a", "hash64": 1}, "2": {}})"));
  EXPECT_EQ(names.size(), 0u);
}

TEST(Dictionary, MissingFileNamesPathAndCause) {
  Dictionary names;
  const auto result = names.load("/nonexistent-dir/names.json");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(),
            "cannot read dictionary file /nonexistent-dir/names.json: No such file or directory");
  const auto saved = names.save("/nonexistent-dir/names.json");
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error(),
            "cannot write dictionary file /nonexistent-dir/names.json: No such file or directory");
}

TEST(Dictionary, ConcurrentRegistrationAndLookup) {
  Dictionary names;
  constexpr int kThreads = 4;
  constexpr int kNames = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&names, t] {
      for (int i = 0; i < kNames; ++i) {
        // Half the names are shared by all threads, half are the thread's own.
        const std::string name = (i % 2 == 0)
                                     ? "shared-" + std::to_string(i)
                                     : "own-" + std::to_string(t) + "-" + std::to_string(i);
        const std::uint32_t hash = names.register_str(name);
        EXPECT_EQ(names.lookup(hash), name);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(names.size(), static_cast<std::size_t>(kNames / 2 + kThreads * kNames / 2));
}

}  // namespace
