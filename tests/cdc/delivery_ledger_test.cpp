// DeliveryLedger: the one place that decides the flush LSN confirmed to the
// server and where a run with an end LSN stops (docs/DESIGN.md §3, §6.3,
// §6.5). Confirming too much loses changes for good, so each rule is checked
// with exact LSNs, fed in stream order as the delivery thread meets them.

#include "cdc/delivery_ledger.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace vil::cdc {
namespace {

// Delivers one whole transaction: Begin, then its Commit.
void deliver(DeliveryLedger& ledger, uint64_t commit_lsn, uint64_t end) {
  ASSERT_TRUE(ledger.begin(commit_lsn));
  EXPECT_TRUE(ledger.in_transaction());
  EXPECT_FALSE(ledger.commit(commit_lsn, end));
  EXPECT_FALSE(ledger.in_transaction());
}

TEST(DeliveryLedger, NothingIsConfirmableBeforeAnythingHappened) {
  DeliveryLedger ledger;
  EXPECT_EQ(ledger.confirmable(), 0u);
  EXPECT_FALSE(ledger.in_transaction());
}

TEST(DeliveryLedger, ConfirmsTheEndOfTheLastDeliveredTransaction) {
  DeliveryLedger ledger;
  deliver(ledger, 0x16B37D0, 0x16B3800);
  EXPECT_EQ(ledger.confirmable(), 0x16B3800u) << "the end LSN, not the commit LSN";
  deliver(ledger, 0x16B3900, 0x16B3930);
  EXPECT_EQ(ledger.confirmable(), 0x16B3930u);
}

TEST(DeliveryLedger, ABegunTransactionConfirmsNothingUntilItsCommit) {
  DeliveryLedger ledger;
  deliver(ledger, 0x1000, 0x1100);
  ASSERT_TRUE(ledger.begin(0x1200));
  EXPECT_EQ(ledger.confirmable(), 0x1100u);
}

TEST(DeliveryLedger, AnIdleServerPositionIsConfirmable) {
  // An idle slot: the server reports its position and every frame before it
  // was delivered, so nothing can be skipped by confirming it. This is what
  // lets the server recycle WAL that concerns other tables.
  DeliveryLedger ledger;
  EXPECT_FALSE(ledger.server_position(0x5000));
  EXPECT_EQ(ledger.confirmable(), 0x5000u);
  deliver(ledger, 0x5100, 0x5180);
  EXPECT_FALSE(ledger.server_position(0x5200));
  EXPECT_EQ(ledger.confirmable(), 0x5200u);
}

TEST(DeliveryLedger, APositionInsideATransactionIsNeverConfirmed) {
  // Begin and one Insert delivered, no Commit: the position is past changes
  // of a transaction that has not been delivered whole.
  DeliveryLedger ledger;
  deliver(ledger, 0x1000, 0x1100);
  ASSERT_TRUE(ledger.begin(0x1400));
  EXPECT_FALSE(ledger.server_position(0x1300));
  EXPECT_EQ(ledger.confirmable(), 0x1100u);
  EXPECT_FALSE(ledger.commit(0x1400, 0x1480));
  EXPECT_EQ(ledger.confirmable(), 0x1480u) << "the position was not remembered";
}

TEST(DeliveryLedger, ConfirmableNeverGoesBackwards) {
  DeliveryLedger ledger;
  EXPECT_FALSE(ledger.server_position(0x3000));
  deliver(ledger, 0x1000, 0x1100);  // an older transaction resent after a reconnect
  EXPECT_EQ(ledger.confirmable(), 0x3000u);
  EXPECT_FALSE(ledger.server_position(0x2000));
  EXPECT_EQ(ledger.confirmable(), 0x3000u);
}

TEST(DeliveryLedger, ATransactionCutShortByAReconnectIsNotConfirmed) {
  // Session 1: T1 whole; T2's Begin, then the connection is lost. Session 2
  // resends T2 whole, and a position follows.
  DeliveryLedger ledger;
  ledger.session_started(0x1000);
  deliver(ledger, 0x1080, 0x1100);
  ASSERT_TRUE(ledger.begin(0x11C0));
  ledger.session_started(0x1300);
  EXPECT_FALSE(ledger.in_transaction()) << "the new session starts outside any transaction";
  EXPECT_EQ(ledger.confirmable(), 0x1100u);
  deliver(ledger, 0x11C0, 0x1200);
  EXPECT_FALSE(ledger.server_position(0x1280));
  EXPECT_EQ(ledger.confirmable(), 0x1280u);
}

TEST(DeliveryLedger, WithoutAnEndLsnNothingEndsTheRun) {
  DeliveryLedger ledger;
  ASSERT_TRUE(ledger.begin(UINT64_MAX - 1));
  EXPECT_FALSE(ledger.commit(UINT64_MAX - 1, UINT64_MAX));
  EXPECT_FALSE(ledger.server_position(UINT64_MAX));
}

TEST(DeliveryLedger, ATransactionCommittingPastTheEndIsNotBegun) {
  DeliveryLedger ledger(0x5000);
  EXPECT_TRUE(ledger.begin(0x5000)) << "committing exactly at the end: delivered";
  EXPECT_TRUE(ledger.commit(0x5000, 0x5030)) << "and the run ends after it";
  EXPECT_EQ(ledger.confirmable(), 0x5030u);
  DeliveryLedger later(0x5000);
  EXPECT_FALSE(later.begin(0x5001));
  EXPECT_FALSE(later.in_transaction());
  EXPECT_EQ(later.confirmable(), 0u);
}

TEST(DeliveryLedger, ACommitBeforeTheEndGoesOn) {
  DeliveryLedger ledger(0x5000);
  ASSERT_TRUE(ledger.begin(0x4000));
  EXPECT_FALSE(ledger.commit(0x4000, 0x4040));
}

TEST(DeliveryLedger, ACommitLsnEndIsPassedOnlyOnceTheServerIsBeyondIt) {
  // The end is a commit LSN: flushed long before this session began.
  DeliveryLedger ledger(0x5000);
  ledger.session_started(0x9000);
  EXPECT_FALSE(ledger.server_position(0x4FF0));
  EXPECT_FALSE(ledger.server_position(0x5000))
      << "the commit record that starts at the end may not have been read";
  EXPECT_TRUE(ledger.server_position(0x5001));
  EXPECT_EQ(ledger.confirmable(), 0x5001u);
}

TEST(DeliveryLedger, AnEndTheServerHadNotFlushedYetIsReachedWhenReported) {
  // pg_current_wal_lsn() taken just before the stream: nothing at it yet.
  DeliveryLedger ledger(0x9000);
  ledger.session_started(0x8000);
  EXPECT_FALSE(ledger.server_position(0x8FF8));
  EXPECT_TRUE(ledger.server_position(0x9000));
  DeliveryLedger at_start(0x9000);
  at_start.session_started(0x9000);
  EXPECT_TRUE(at_start.server_position(0x9000));
}

TEST(DeliveryLedger, APositionPastTheEndInsideATransactionDoesNotEndTheRun) {
  // The transaction commits before the end; a keepalive came while it was
  // being sent. The run must deliver it whole first.
  DeliveryLedger ledger(0x5000);
  ledger.session_started(0x4000);
  ASSERT_TRUE(ledger.begin(0x4F00));
  EXPECT_FALSE(ledger.server_position(0x6000));
  EXPECT_FALSE(ledger.commit(0x4F00, 0x4F40));
  EXPECT_TRUE(ledger.server_position(0x6000));
}

}  // namespace
}  // namespace vil::cdc
