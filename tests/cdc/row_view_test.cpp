// RowView: a Change's rows, typed on access.
#include "vil/cdc/row_view.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "pgoutput/wire.hpp"
#include "vil/cdc/change.hpp"
#include "vil/pgoutput/decoder.hpp"
#include "vil/values/oids.hpp"

namespace vil::cdc {
namespace {

using pgoutput::testing::Wire;
namespace oid = values::oid;

// A relation (id int4 key, total numeric, tags text[], note text, doc jsonb,
// d a domain over int4 the catalog resolved) and one Insert of it.
class RowViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Wire relation('R');
    relation.u32(16390).str("public").str("orders").ch('d').u16(6);
    const std::pair<const char*, uint32_t> columns[] = {
        {"id", oid::kInt4},   {"total", oid::kNumeric}, {"tags", oid::kTextArray},
        {"note", oid::kText}, {"doc", oid::kJsonb},     {"d", 20000}};
    for (const auto& [name, type] : columns) {
      relation.u8(name == std::string_view("id") ? 1 : 0).str(name).u32(type).i32(-1);
    }
    ASSERT_TRUE(decoder_.decode(relation.span()));
    catalog_.add_description({20000, "public", "posint", oid::kInt4, 0, ','});
    for (const auto& [name, type] : columns) types_.push_back(catalog_.find(type));
  }

  // The Change of an Insert whose tuple `tuple` is, as the trigger makes it.
  Change insert(const Wire& tuple) {
    auto decoded = decoder_.decode(tuple.span());
    EXPECT_TRUE(decoded) << decoded.error().message;
    Change change;
    change.kind = ChangeKind::Insert;
    change.relation = decoded->relation;
    change.new_tuple = std::get<pgoutput::Insert>(decoded->message).new_tuple;
    change.column_types = types_;
    return change;
  }

  pgoutput::Decoder decoder_{pgoutput::DecoderOptions{1}};
  values::TypeCatalog catalog_;
  std::vector<values::TypeInfo> types_;
};

TEST_F(RowViewTest, ValuesByIndexAndByNameInTheirTypes) {
  const Wire w = std::move(Wire('I')
                               .u32(16390)
                               .ch('N')
                               .columns(6)
                               .text("7")
                               .text("12.50")
                               .text("{a,\"b c\"}")
                               .null()
                               .text(R"({"k": 1})")
                               .text("42"));
  const Change change = insert(w);
  const RowView row = change.new_row();
  ASSERT_EQ(row.size(), 6u);
  EXPECT_EQ(row.name(1), "total");
  EXPECT_EQ(row.find("doc"), 4u);
  EXPECT_EQ(row.find("nope"), std::nullopt);
  EXPECT_EQ(row.type(5).name, "posint");
  EXPECT_EQ(row.type(5).kind, values::TypeKind::Int4);

  EXPECT_EQ(row.value(0).value(), values::Value{int64_t{7}});
  EXPECT_EQ(row.value("total").value(), values::Value{values::Numeric{"12.50"}});
  const auto tags = row.value("tags");
  ASSERT_TRUE(tags);
  const auto& array = std::get<values::Array>(*tags);
  ASSERT_EQ(array.size(), 2u);
  EXPECT_EQ(array[1], values::Value{values::Text{"b c"}});
  EXPECT_EQ(row.value("note").value(), values::Value{values::Null{}});
  EXPECT_EQ(row.value("doc").value(), values::Value{values::Json{R"({"k": 1})"}});
  EXPECT_EQ(row.value("d").value(), values::Value{int64_t{42}});  // the domain's base type

  EXPECT_TRUE(change.old_row().empty());  // an insert has no old row
}

TEST_F(RowViewTest, WhatCannotBeConvertedIsAnErrorThatSaysWhy) {
  const Wire w = std::move(Wire('I')
                               .u32(16390)
                               .ch('N')
                               .columns(6)
                               .text("x7")
                               .toast()
                               .binary("\x01")
                               .null()
                               .null()
                               .null());
  const RowView row = insert(w).new_row();
  const auto bad = row.value("id");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, values::ValueErrorCode::Syntax);
  EXPECT_NE(bad.error().message.find("int4"), std::string::npos) << bad.error().message;
  const auto toast = row.value("total");
  ASSERT_FALSE(toast);
  EXPECT_EQ(toast.error().code, values::ValueErrorCode::NotSent);
  EXPECT_NE(toast.error().message.find("\"total\""), std::string::npos);
  EXPECT_FALSE(row.value("tags"));  // sent in binary format
  const auto missing = row.value("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, values::ValueErrorCode::NoSuchColumn);
  EXPECT_EQ(row.value(6).error().code, values::ValueErrorCode::NoSuchColumn);
}

TEST_F(RowViewTest, WithoutResolvedTypesBuiltInsAreStillTyped) {
  const Wire w = std::move(
      Wire('I').u32(16390).ch('N').columns(6).text("7").null().null().null().null().text("42"));
  Change change = insert(w);
  change.column_types = {};  // a Change built by hand
  const RowView row = change.new_row();
  EXPECT_EQ(row.value("id").value(), values::Value{int64_t{7}});
  EXPECT_EQ(row.value("d").value(), values::Value{values::Unknown{"42"}});  // kept as text
}

}  // namespace
}  // namespace vil::cdc
