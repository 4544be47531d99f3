// AckTracker: what an asynchronous sink's acknowledgements make confirmable
// (docs/DESIGN.md §3.1). Confirming past an unacknowledged change loses it
// for good, so each rule is checked with exact LSNs and sequences, fed as
// the delivery thread and a broker's thread would.

#include "cdc/ack_tracker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace vil::cdc {
namespace {

TEST(AckTracker, ConfirmsATransactionOnlyWhenEveryChangeOfItAndBeforeItWasAcknowledged) {
  AckTracker acks(100, 1 << 20);
  // Transaction A: changes 1, 2, ends at 0x100. B: change 3, ends at 0x200.
  acks.sent(1, 10);
  acks.sent(2, 10);
  acks.boundary(0x100);
  acks.sent(3, 10);
  acks.boundary(0x200);
  EXPECT_EQ(acks.confirmable(), 0u);
  acks.acknowledge(3);  // B first: nothing, A is not done
  EXPECT_EQ(acks.confirmable(), 0u);
  acks.acknowledge(1);
  EXPECT_EQ(acks.confirmable(), 0u);
  acks.acknowledge(2);  // A done, and B was already: both
  EXPECT_EQ(acks.confirmable(), 0x200u);
  EXPECT_EQ(acks.in_flight(), 0u);
}

TEST(AckTracker, APositionWithNothingInFlightIsConfirmableAtOnce) {
  AckTracker acks(100, 1 << 20);
  acks.boundary(0x50);
  EXPECT_EQ(acks.confirmable(), 0x50u);
  acks.sent(7, 1);
  acks.boundary(0x60);
  acks.boundary(0x70);  // nothing sent in between: the same wait
  EXPECT_EQ(acks.confirmable(), 0x50u);
  acks.acknowledge(7);
  EXPECT_EQ(acks.confirmable(), 0x70u);
  acks.boundary(0x40);  // never backwards
  EXPECT_EQ(acks.confirmable(), 0x70u);
}

TEST(AckTracker, GapsInSequencesUnknownAndRepeatedAcknowledgementsAreHarmless) {
  AckTracker acks(100, 1 << 20);
  acks.sent(10, 1);
  acks.sent(12, 1);  // 11 went to the Trigger lane (a PauseAck)
  acks.boundary(0x10);
  acks.acknowledge(11);
  acks.acknowledge(99);
  acks.acknowledge(10);
  acks.acknowledge(10);
  EXPECT_EQ(acks.confirmable(), 0u);
  acks.acknowledge(12);
  EXPECT_EQ(acks.confirmable(), 0x10u);
}

TEST(AckTracker, AFailureStopsConfirmationAtTheFailedChange) {
  AckTracker acks(100, 1 << 20);
  acks.sent(1, 1);
  acks.boundary(0x10);
  acks.sent(2, 1);
  acks.boundary(0x20);
  acks.sent(3, 1);
  acks.boundary(0x30);
  acks.acknowledge(1);
  acks.fail(2, "kafka topic t", "message too large");
  acks.fail(3, "kafka topic t", "later failure");  // the first one is kept
  acks.acknowledge(3);
  EXPECT_EQ(acks.confirmable(), 0x10u);
  ASSERT_TRUE(acks.failure());
  EXPECT_EQ(acks.failure()->sequence, 2u);
  EXPECT_EQ(acks.failure()->destination, "kafka topic t");
  EXPECT_EQ(acks.failure()->cause, "message too large");
}

TEST(AckTracker, BoundsChangesAndBytesButAlwaysLetsOneThrough) {
  AckTracker by_count(2, 1 << 20);
  EXPECT_TRUE(by_count.has_room());
  EXPECT_TRUE(by_count.sent(1, 1));
  EXPECT_TRUE(by_count.has_room());
  EXPECT_FALSE(by_count.sent(2, 1)) << "that one filled the window";
  EXPECT_FALSE(by_count.has_room());
  by_count.acknowledge(2);  // not the oldest: still two waiting
  EXPECT_FALSE(by_count.has_room());
  by_count.acknowledge(1);
  EXPECT_TRUE(by_count.has_room());

  AckTracker by_bytes(100, 1000);
  EXPECT_TRUE(by_bytes.has_room());
  EXPECT_FALSE(by_bytes.sent(1, 5000));  // larger than the bound on its own
  EXPECT_FALSE(by_bytes.has_room());
  by_bytes.acknowledge(1);
  EXPECT_TRUE(by_bytes.has_room());
}

TEST(AckTracker, WakesTheDeliveryThreadWhenAnAcknowledgementMovesSomething) {
  std::atomic<int> wakes{0};
  AckTracker acks(1, 1 << 20);
  acks.begin_run([&] { ++wakes; });
  acks.sent(1, 1);
  acks.sent(2, 1);
  acks.boundary(0x10);
  acks.acknowledge(2);  // moves nothing: no wake
  EXPECT_EQ(wakes.load(), 0);
  acks.acknowledge(1);  // room and a new confirmable LSN
  EXPECT_EQ(wakes.load(), 1);
  acks.fail(3, "d", "c");
  EXPECT_EQ(wakes.load(), 2);
  acks.end_run();  // the run's queue is gone: never called again
  acks.fail(4, "d", "c");
  EXPECT_EQ(wakes.load(), 2);
}

TEST(AckTracker, ANewRunStartsEmptyAndLateAcknowledgementsOfTheLastAreIgnored) {
  AckTracker acks(100, 1 << 20);
  acks.begin_run({});
  acks.sent(1, 1);
  acks.boundary(0x10);
  acks.fail(1, "d", "c");
  acks.end_run();
  acks.begin_run({});
  EXPECT_FALSE(acks.failure());
  EXPECT_EQ(acks.in_flight(), 0u);
  EXPECT_EQ(acks.confirmable(), 0u);
  acks.acknowledge(1);  // late, from the last run
  acks.sent(2, 1);
  acks.boundary(0x20);
  EXPECT_EQ(acks.confirmable(), 0u);
  acks.acknowledge(2);
  EXPECT_EQ(acks.confirmable(), 0x20u);
}

TEST(AckTracker, AcknowledgementsFromManyThreadsInAnyOrderConfirmEverything) {
  AckTracker acks(1'000'000, 1ull << 40);
  constexpr uint64_t kChanges = 20'000;
  for (uint64_t s = 1; s <= kChanges; ++s) {
    acks.sent(s, 100);
    if (s % 10 == 0) acks.boundary(s * 16);
  }
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 4; ++t) {
    threads.emplace_back([&acks, t] {
      for (uint64_t s = kChanges - t; s >= 1 && s <= kChanges; s -= 4) acks.acknowledge(s);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(acks.confirmable(), kChanges * 16);
  EXPECT_EQ(acks.in_flight(), 0u);
}

TEST(AckTracker, FiguresCountAcknowledgementsFailuresAndHowLongTheWindowWasFull) {
  AckTracker acks(2, 1 << 20);
  acks.begin_run([] {});
  EXPECT_FALSE(acks.figures().full_since);
  EXPECT_TRUE(acks.sent(1, 10));
  EXPECT_FALSE(acks.figures().full_since);
  const auto before = std::chrono::steady_clock::now();
  EXPECT_FALSE(acks.sent(2, 10));  // the window is full from here
  AckTracker::Figures figures = acks.figures();
  EXPECT_EQ(figures.in_flight, 2u);
  ASSERT_TRUE(figures.full_since);
  EXPECT_GE(*figures.full_since, before);
  acks.acknowledge(2);  // out of order: both still in flight, the window still full
  EXPECT_TRUE(acks.figures().full_since);
  acks.acknowledge(1);
  figures = acks.figures();
  EXPECT_EQ(figures.in_flight, 0u);
  EXPECT_EQ(figures.acknowledged, 2u);
  EXPECT_FALSE(figures.full_since);
  acks.acknowledge(1);  // again: not counted twice
  acks.sent(3, 10);
  acks.fail(3, "kafka", "gone");
  acks.fail(3, "kafka", "gone again");
  figures = acks.figures();
  EXPECT_EQ(figures.acknowledged, 2u);
  EXPECT_EQ(figures.failures, 2u);
  EXPECT_EQ(acks.failure()->cause, "gone");  // the first failure is the one kept
  acks.end_run();
}

}  // namespace
}  // namespace vil::cdc
