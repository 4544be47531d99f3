// AckTracker: the one place that decides the flush LSN sent to the server
// (docs/DESIGN.md §3 "What is confirmed, and when", §6.3). Confirming too much
// loses changes for good, so each rule is checked with exact LSNs. Frame
// counts are counted from the start of the run, as both threads count them.

#include "replication/ack_tracker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>

namespace vil::replication {
namespace {

TEST(AckTracker, NothingIsConfirmableBeforeAnythingHappened) {
  AckTracker ack;
  EXPECT_EQ(ack.confirmable(), 0u);
}

TEST(AckTracker, StartsAtTheGivenPosition) {
  AckTracker ack(0x16B3748);
  EXPECT_EQ(ack.confirmable(), 0x16B3748u);
}

TEST(AckTracker, ConfirmsTheEndOfTheLastDeliveredTransaction) {
  AckTracker ack;
  ack.publish_delivered(0x16B3800, 3);  // Begin, Insert, Commit
  EXPECT_EQ(ack.confirmable(), 0x16B3800u);
  ack.publish_delivered(0x16B3A10, 6);
  EXPECT_EQ(ack.confirmable(), 0x16B3A10u);
}

TEST(AckTracker, AnOlderDeliveredLsnIsIgnored) {
  AckTracker ack;
  ack.publish_delivered(0x5000, 6);
  ack.publish_delivered(0x3000, 7);
  EXPECT_EQ(ack.confirmable(), 0x5000u);
}

TEST(AckTracker, ADeliveredLsnBelowTheStartIsIgnored) {
  AckTracker ack(0x5000);
  ack.publish_delivered(0x1000, 3);
  EXPECT_EQ(ack.confirmable(), 0x5000u);
}

TEST(AckTracker, AnIdleKeepaliveBeforeAnyFrameIsConfirmableAtOnce) {
  // An idle slot: the server reports its position and no frame came, so
  // nothing can be skipped by confirming it. This is what lets the server
  // recycle WAL that concerns other tables.
  AckTracker ack;
  ack.note_server_position(0x2000, 0, /*transaction_open=*/false);
  EXPECT_EQ(ack.confirmable(), 0x2000u);
}

TEST(AckTracker, AKeepaliveWaitsUntilEveryFrameBeforeItIsDone) {
  AckTracker ack;
  ack.note_server_position(0x3000, 4, false);
  ack.publish_delivered(0x1000, 3);
  EXPECT_EQ(ack.confirmable(), 0x1000u) << "frame 4 is not done yet";
  ack.publish_delivered(0x1000, 4);
  EXPECT_EQ(ack.confirmable(), 0x3000u) << "frames done reached the keepalive's count";
}

TEST(AckTracker, AKeepaliveInsideATransactionIsNeverConfirmed) {
  // Begin and one Insert received, no Commit: the keepalive's position is
  // past changes of a transaction that has not been delivered whole.
  AckTracker ack;
  ack.publish_delivered(0x1000, 3);
  ack.note_server_position(0x2000, 5, /*transaction_open=*/true);
  ack.publish_delivered(0x1000, 5);
  EXPECT_EQ(ack.confirmable(), 0x1000u);
}

TEST(AckTracker, AKeepaliveInsideATransactionDoesNotReplaceAnIdleOne) {
  AckTracker ack;
  ack.note_server_position(0x1800, 1, false);
  ack.note_server_position(0x2000, 3, true);
  ack.publish_delivered(0, 1);
  EXPECT_EQ(ack.confirmable(), 0x1800u);
}

TEST(AckTracker, AKeepaliveBehindTheDeliveredLsnDoesNotLowerIt) {
  AckTracker ack;
  ack.publish_delivered(0x5000, 10);
  ack.note_server_position(0x4000, 10, false);
  EXPECT_EQ(ack.confirmable(), 0x5000u);
}

TEST(AckTracker, AnOlderKeepaliveIsIgnored) {
  // Out of order: the later call reports a lower position. It must not
  // lower the position, nor lower the frame count the higher one waits for.
  AckTracker ack;
  ack.note_server_position(0x3000, 2, false);
  ack.note_server_position(0x2000, 1, false);
  ack.publish_delivered(0, 1);
  EXPECT_EQ(ack.confirmable(), 0u);
  ack.publish_delivered(0, 2);
  EXPECT_EQ(ack.confirmable(), 0x3000u);
}

TEST(AckTracker, ARepeatedKeepalivePositionKeepsItsFirstFrameCount) {
  // The server did not move: what it had sent up to that position came in the
  // first two frames, so waiting for later frames would only delay.
  AckTracker ack;
  ack.note_server_position(0x2000, 2, false);
  ack.note_server_position(0x2000, 5, false);
  ack.publish_delivered(0, 2);
  EXPECT_EQ(ack.confirmable(), 0x2000u);
}

TEST(AckTracker, OnlyTheLatestIdleKeepaliveIsKept) {
  // §6.3: raised to the *latest* such keepalive once its frames are done.
  // An earlier one not yet read by confirmable() is not remembered, so this
  // errs on the side of confirming less.
  AckTracker ack;
  ack.note_server_position(0x2000, 2, false);
  ack.note_server_position(0x3000, 6, false);
  ack.publish_delivered(0, 4);
  EXPECT_EQ(ack.confirmable(), 0u);
  ack.publish_delivered(0, 6);
  EXPECT_EQ(ack.confirmable(), 0x3000u);
}

TEST(AckTracker, ConfirmableNeverGoesBackwards) {
  AckTracker ack;
  ack.publish_delivered(0x1000, 2);
  ack.note_server_position(0x3000, 2, false);
  EXPECT_EQ(ack.confirmable(), 0x3000u);
  // A newer keepalive that waits for frames not yet done: the position
  // computed now is the delivered 0x1000, but 0x3000 was already sent.
  ack.note_server_position(0x4000, 5, false);
  EXPECT_EQ(ack.confirmable(), 0x3000u);
  EXPECT_EQ(ack.confirmable(), 0x3000u);
  ack.publish_delivered(0x1100, 5);
  EXPECT_EQ(ack.confirmable(), 0x4000u);
}

TEST(AckTracker, FewerFramesDoneIsIgnored) {
  AckTracker ack;
  ack.publish_delivered(0x1000, 5);
  ack.publish_delivered(0x1000, 3);
  ack.note_server_position(0x2000, 5, false);
  EXPECT_EQ(ack.confirmable(), 0x2000u);
}

TEST(AckTracker, AFailedFrameHoldsBackEveryLaterKeepalive) {
  // T1 (frames 1-3) delivered whole, end 0x1100. T2 (frames 4-6, end 0x1200)
  // was received, then an idle keepalive at 0x1300 after 6 frames. T2's
  // Commit callback failed: frame 6 is not done, so neither T2's end nor the
  // keepalive may be confirmed; the server must send T2 again.
  AckTracker ack;
  ack.note_server_position(0x1300, 6, false);
  ack.publish_delivered(0x1100, 5);
  EXPECT_EQ(ack.confirmable(), 0x1100u);
}

TEST(AckTracker, ATransactionCutShortByAReconnectIsNotConfirmed) {
  // Session 1: T1 (frames 1-3, end 0x1100) whole; T2's Begin and Insert
  // (frames 4-5) then the connection is lost. Session 2 resends T2 whole
  // (frames 6-8, end 0x1200) and a keepalive follows at 0x1280. Counts run on
  // across sessions on both threads.
  AckTracker ack;
  ack.publish_delivered(0x1100, 5);
  EXPECT_EQ(ack.confirmable(), 0x1100u);
  ack.note_server_position(0x1280, 8, false);
  ack.publish_delivered(0x1100, 7);  // T2's Commit not delivered yet
  EXPECT_EQ(ack.confirmable(), 0x1100u);
  ack.publish_delivered(0x1200, 8);
  EXPECT_EQ(ack.confirmable(), 0x1280u);
}

TEST(AckTracker, ConcurrentPublishersNeverSeeTheFlushLsnGoBackwards) {
  // The delivery thread publishes while the I/O thread notes keepalives and
  // reads confirmable(), as in a run. Run under ThreadSanitizer too.
  constexpr uint64_t kTransactions = 20'000;
  AckTracker ack;
  std::atomic<bool> done{false};
  std::thread delivery([&] {
    for (uint64_t t = 1; t <= kTransactions; ++t) ack.publish_delivered(0x1000 + t * 0x100, t * 3);
    done.store(true);
  });
  uint64_t last = 0;
  bool backwards = false;
  uint64_t keepalive = 0;
  while (!done.load()) {
    // Idle keepalives after a whole transaction, positions only growing.
    ++keepalive;
    ack.note_server_position(0x1000 + keepalive * 0x10, 0, false);
    const uint64_t now = ack.confirmable();
    if (now < last) backwards = true;
    last = now;
  }
  delivery.join();
  EXPECT_FALSE(backwards);
  const uint64_t end = 0x1000 + kTransactions * 0x100;
  EXPECT_EQ(ack.confirmable(), std::max(end, 0x1000 + keepalive * 0x10));
}

}  // namespace
}  // namespace vil::replication
