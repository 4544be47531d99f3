// Topic names and change keys, as every broker sink uses them (§4.5).

#include "vil/output/broker_names.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace vil::output {
namespace {

pgoutput::RelationSchema relation(std::string ns, std::string name) {
  pgoutput::RelationSchema r;
  r.namespace_name = std::move(ns);
  r.name = std::move(name);
  r.qualified_name = r.namespace_name + "." + r.name;
  return r;
}

TEST(BrokerNames, ARowGoesToItsTablesTopicWithUnsafeCharactersReplaced) {
  EXPECT_EQ(table_topic("shop", "public", "orders"), "shop.public.orders");
  EXPECT_EQ(table_topic("a.b", "My Schema", "t.x*>é"), "a.b.My_Schema.t_x____");
  const pgoutput::RelationSchema orders = relation("public", "orders");
  cdc::Change change;
  change.kind = cdc::ChangeKind::Delete;
  change.relation = &orders;
  std::vector<std::string> topics{"left over"};
  change_topics("slot_1", change, topics);
  EXPECT_EQ(topics, (std::vector<std::string>{"slot_1.public.orders"}));
}

TEST(BrokerNames, ATruncateGoesToEachOfItsTablesAndAMessageToItsOwnTopic) {
  const pgoutput::RelationSchema a = relation("public", "a");
  const pgoutput::RelationSchema b = relation("sales", "b");
  const std::array<const pgoutput::RelationSchema*, 2> both{&b, &a};
  cdc::Change truncate;
  truncate.kind = cdc::ChangeKind::Truncate;
  truncate.truncated = both;
  std::vector<std::string> topics;
  change_topics("p", truncate, topics);
  EXPECT_EQ(topics, (std::vector<std::string>{"p.sales.b", "p.public.a"}));

  cdc::Change message;
  message.kind = cdc::ChangeKind::Message;
  change_topics("p", message, topics);
  EXPECT_EQ(topics, (std::vector<std::string>{"p._message"}));
}

TEST(BrokerNames, APrefixIsNamesBetweenSingleDots) {
  EXPECT_EQ(check_topic_prefix("vil_slot"), "");
  EXPECT_EQ(check_topic_prefix("prod.cdc-1"), "");
  EXPECT_NE(check_topic_prefix(""), "");
  EXPECT_NE(check_topic_prefix("a..b"), "");
  EXPECT_NE(check_topic_prefix(".a"), "");
  EXPECT_NE(check_topic_prefix("a."), "");
  EXPECT_NE(check_topic_prefix("a b"), "");
  EXPECT_NE(check_topic_prefix("a>"), "");
}

TEST(BrokerNames, AKeyIsTheCommitLsnAndSeqOrTheLsnOfAMessageOutsideATransaction) {
  cdc::Change change;
  change.kind = cdc::ChangeKind::Update;
  change.commit_lsn = pgoutput::Lsn{0x1A2B3C4};
  change.lsn = pgoutput::Lsn{0x1A2B300};
  change.ordinal = 3;
  EXPECT_EQ(change_key(change), "0/1A2B3C4:3");
  change.kind = cdc::ChangeKind::Read;
  EXPECT_EQ(change_key(change), "0/1A2B3C4:3");
  change.kind = cdc::ChangeKind::Message;
  change.transactional = false;
  change.lsn = pgoutput::Lsn{0x100000020};
  EXPECT_EQ(change_key(change), "1/20:0");
}

}  // namespace
}  // namespace vil::output
