// register_str must equal the Rust crates' hash: every shared vector passes.

#include "vil/log/fx_hash.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "vil/log/dictionary.hpp"

namespace {

struct Vector {
  std::uint32_t hex;
  std::uint32_t decimal;
  std::string text;
  int line;
};

// The vectors checked against the Rust code (docs/DESIGN.md §2.2).
const std::string kVectors = std::string(VIL_SOURCE_DIR) + "/tests/log/vectors/register_str.tsv";

std::vector<Vector> read_vectors() {
  const std::string& path = kVectors;
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::vector<Vector> vectors;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    const auto tab1 = line.find('\t');
    const auto tab2 = line.find('\t', tab1 + 1);
    if (tab1 == std::string::npos || tab2 == std::string::npos) {
      ADD_FAILURE() << path << ":" << number << ": expected three tab-separated columns";
      continue;
    }
    Vector v;
    v.hex = static_cast<std::uint32_t>(std::stoul(line.substr(0, tab1), nullptr, 16));
    v.decimal = static_cast<std::uint32_t>(std::stoul(line.substr(tab1 + 1, tab2 - tab1 - 1)));
    v.text = nlohmann::json::parse(line.substr(tab2 + 1)).get<std::string>();
    v.line = number;
    vectors.push_back(std::move(v));
  }
  return vectors;
}

TEST(FxHash, SharedVectors) {
  const std::vector<Vector> vectors = read_vectors();
  ASSERT_EQ(vectors.size(), 18u);
  for (const Vector& v : vectors) {
    SCOPED_TRACE("line " + std::to_string(v.line) + ": " + v.text);
    EXPECT_EQ(v.hex, v.decimal) << "the file's two columns disagree";
    EXPECT_EQ(vil::log::fx_hash32(v.text), v.hex);
    EXPECT_EQ(vil::log::register_str(v.text), v.hex);
    EXPECT_EQ(vil::log::lookup(v.hex), v.text);
  }
}

TEST(FxHash, SixtyFourBitFinish) {
  EXPECT_EQ(vil::log::fx_hash64("cdc"), 4227649376462516224u);
  EXPECT_EQ(vil::log::fx_hash64("vil_pub"), 11917406164474157032u);
  EXPECT_EQ(vil::log::fx_hash64("orders"), 305953638908780871u);
}

// rustc-hash 2.1's own test values for FxHasher::write(bytes) alone and for
// write_usize(1), i.e. the two steps register_str combines.
std::uint64_t write_only(std::string_view bytes) {
  namespace d = vil::log::fx_detail;
  const std::uint64_t state = d::absorb(0, d::hash_bytes(bytes));
  return (state << 26) | (state >> 38);
}

TEST(FxHash, RustcHashWriteVectors) {
  EXPECT_EQ(write_only(""), 17606491139363777937u);
  EXPECT_EQ(write_only(std::string_view("\0", 1)), 5448590020104574886u);
  EXPECT_EQ(write_only(std::string_view("\0\0\0\0\0\0", 6)), 16766921560080789783u);
  EXPECT_EQ(write_only("\x01"), 5922447956811044110u);
  EXPECT_EQ(write_only("\x02"), 5229781508510959783u);
  EXPECT_EQ(write_only("uwu"), 7168164714682931527u);
  EXPECT_EQ(write_only("These are some bytes for testing rustc_hash."), 2349210501944688211u);
  const std::uint64_t one = vil::log::fx_detail::absorb(0, 1);
  EXPECT_EQ((one << 26) | (one >> 38), 12157901119326311915u);
}

TEST(FxHash, UsableAtCompileTime) {
  constexpr std::uint32_t hash = vil::log::fx_hash32("vil_cdc_slot");
  static_assert(hash == 0xf13aaf74u);
  EXPECT_EQ(hash, 0xf13aaf74u);
}

TEST(FxHash, EveryLengthAroundTheChunkBoundaries) {
  // Distinct prefixes of one text hash to distinct values: the length paths
  // (0, 1-3, 4-7, 8-16, 17+, multiples of 16) all take every byte into account.
  const std::string text(80, 'x');
  std::vector<std::uint64_t> seen;
  for (std::size_t n = 0; n <= text.size(); ++n) {
    const std::uint64_t h = vil::log::fx_hash64(std::string_view(text).substr(0, n));
    for (const std::uint64_t other : seen) ASSERT_NE(h, other) << "length " << n;
    seen.push_back(h);
  }
}

}  // namespace
