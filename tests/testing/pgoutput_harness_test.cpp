// The harness end to end: a publication and a pgoutput slot on the throwaway
// cluster deliver Begin, Relation, Insert and Commit for one inserted row.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/pg_fixture.hpp"

namespace vil::testing {
namespace {

std::vector<std::uint8_t> from_hex(const std::string& text) {
  // bytea's text form: \x followed by two hex digits per byte.
  EXPECT_EQ(text.rfind("\\x", 0), 0u) << text;
  const auto digit = [](char c) -> std::uint8_t {
    return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  };
  std::vector<std::uint8_t> bytes;
  for (std::size_t i = 2; i + 1 < text.size(); i += 2) {
    bytes.push_back(static_cast<std::uint8_t>(digit(text[i]) << 4 | digit(text[i + 1])));
  }
  return bytes;
}

// Reads pgoutput's big-endian fields one after the other.
struct Reader {
  const std::vector<std::uint8_t>& bytes;
  std::size_t at = 0;

  std::uint8_t byte() { return bytes.at(at++); }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | byte();
    return v;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(byte() << 8 | byte()); }
  std::string text(std::size_t n) {
    std::string s(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                  bytes.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
    return s;
  }
  bool done() const { return at == bytes.size(); }
};

using PgoutputHarness = PgTest;

TEST_F(PgoutputHarness, InsertArrivesAsPgoutputMessages) {
  const std::string slot = unique_name("slot");
  execute("CREATE TABLE items (id int PRIMARY KEY, name text)");
  execute("CREATE PUBLICATION p FOR TABLE items");
  execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
  execute("INSERT INTO items VALUES (42, 'hello, pgoutput')");
  const std::string items_oid = query_value("SELECT 'items'::regclass::oid");

  const auto rows = query("SELECT data FROM pg_logical_slot_get_binary_changes('" + slot +
                          "', NULL, NULL, 'proto_version', '1', 'publication_names', 'p')");
  ASSERT_EQ(rows.size(), 4u);
  std::vector<std::vector<std::uint8_t>> messages;
  for (const auto& row : rows) messages.push_back(from_hex(row.at(0).value()));

  EXPECT_EQ(messages[0].at(0), 'B');
  EXPECT_EQ(messages[1].at(0), 'R');
  ASSERT_EQ(messages[2].at(0), 'I');
  EXPECT_EQ(messages[3].at(0), 'C');

  Reader relation{messages[1]};
  relation.byte();
  EXPECT_EQ(std::to_string(relation.u32()), items_oid);

  // Insert: 'I', relation oid, 'N', column count, then per column 't', length, text.
  Reader insert{messages[2]};
  insert.byte();
  EXPECT_EQ(std::to_string(insert.u32()), items_oid);
  EXPECT_EQ(insert.byte(), 'N');
  ASSERT_EQ(insert.u16(), 2);
  EXPECT_EQ(insert.byte(), 't');
  const auto id_length = insert.u32();
  EXPECT_EQ(insert.text(id_length), "42");
  EXPECT_EQ(insert.byte(), 't');
  const auto name_length = insert.u32();
  EXPECT_EQ(insert.text(name_length), "hello, pgoutput");
  EXPECT_TRUE(insert.done());

  // Consumed: asking again returns nothing.
  EXPECT_TRUE(query("SELECT data FROM pg_logical_slot_get_binary_changes('" + slot +
                    "', NULL, NULL, 'proto_version', '1', 'publication_names', 'p')")
                  .empty());

  execute("SELECT pg_drop_replication_slot('" + slot + "')");
  execute("DROP PUBLICATION p");
  execute("DROP TABLE items");
  EXPECT_EQ(
      query_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'"),
      "0");
}

}  // namespace
}  // namespace vil::testing
