// backoff_delay()'s edges (docs/DESIGN.md §6.6 step 3). Doubling, jitter and
// the cap in the usual range are tested in trigger_stream_rules_test.cpp;
// these are the ends: the smallest delay, a policy with no room to grow, and
// an attempt count that keeps growing while a server stays away (0: never
// give up).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "replication/reconnect_backoff.hpp"

namespace vil::replication {
namespace {

using namespace std::chrono_literals;

TEST(ReconnectBackoffEdges, NeverBelowOneMillisecond) {
  // 1 ms with jitter 0.8 would be 0.8 ms: a reconnect loop with no wait.
  const ReconnectPolicy policy{1ms, 1000ms, 0};
  EXPECT_EQ(backoff_delay(policy, 1, 0.8), 1ms);
  EXPECT_EQ(backoff_delay(policy, 2, 0.8), 1ms);  // 1.6 ms, whole milliseconds
  EXPECT_EQ(backoff_delay(policy, 3, 0.8), 3ms);  // 3.2 ms
}

TEST(ReconnectBackoffEdges, AnInitialEqualToTheMaximumStaysThere) {
  const ReconnectPolicy policy{500ms, 500ms, 0};
  for (uint32_t attempt : {1u, 2u, 3u, 50u}) {
    SCOPED_TRACE(attempt);
    EXPECT_EQ(backoff_delay(policy, attempt, 1.0), 500ms);
    EXPECT_EQ(backoff_delay(policy, attempt, 1.2), 500ms);
  }
  // Below the cap the jitter still spreads consumers out.
  EXPECT_EQ(backoff_delay(policy, 1, 0.8), 400ms);
}

TEST(ReconnectBackoffEdges, ExactPowersOfTwoUpToALargeMaximum) {
  const ReconnectPolicy policy{1ms, 24h, 0};
  EXPECT_EQ(backoff_delay(policy, 18, 1.0), 131'072ms);     // 2^17
  EXPECT_EQ(backoff_delay(policy, 27, 1.0), 67'108'864ms);  // 2^26, 18.6 h
  EXPECT_EQ(backoff_delay(policy, 28, 1.0), 24h);
}

TEST(ReconnectBackoffEdges, AnyAttemptCountEndsAtTheMaximum) {
  // A server away for days: the count grows without bound, the delay does not.
  const ReconnectPolicy policy{1ms, 24h, 0};
  EXPECT_EQ(backoff_delay(policy, UINT32_MAX, 1.0), 24h);
  EXPECT_EQ(backoff_delay(policy, UINT32_MAX, 1.2), 24h);
}

}  // namespace
}  // namespace vil::replication
