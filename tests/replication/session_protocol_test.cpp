// SessionProtocol and ReconnectState: the I/O thread's decisions as pure
// functions of bytes and clock readings (docs/DESIGN.md §6.2 steps 4 and 5,
// §6.6), fed here without a server or a socket.

#include "replication/session_protocol.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "replication/reconnect_backoff.hpp"
#include "vil/pgoutput/byte_order.hpp"

namespace vil::replication {
namespace {

using namespace std::chrono_literals;
using Clock = SessionProtocol::Clock;
using Kind = SessionProtocol::Incoming::Kind;

const Clock::time_point kStart = Clock::time_point{} + 1h;

std::vector<std::byte> xlogdata(uint64_t wal_start, uint64_t wal_end,
                                std::vector<uint8_t> payload) {
  std::vector<std::byte> frame(25 + payload.size());
  frame[0] = std::byte{'w'};
  pgoutput::store_be<uint64_t>(frame.data() + 1, wal_start);
  pgoutput::store_be<uint64_t>(frame.data() + 9, wal_end);
  pgoutput::store_be<int64_t>(frame.data() + 17, 0);
  for (size_t i = 0; i < payload.size(); ++i) frame[25 + i] = std::byte{payload[i]};
  return frame;
}

std::vector<std::byte> keepalive(uint64_t wal_end, bool reply) {
  std::vector<std::byte> frame(18);
  frame[0] = std::byte{'k'};
  pgoutput::store_be<uint64_t>(frame.data() + 1, wal_end);
  pgoutput::store_be<int64_t>(frame.data() + 9, 0);
  frame[17] = std::byte{static_cast<uint8_t>(reply ? 1 : 0)};
  return frame;
}

TEST(SessionProtocol, AnXLogDataFrameIsQueuedWithItsStartAndPayload) {
  SessionProtocol protocol(10s, kStart);
  EXPECT_FALSE(protocol.received_data());
  const auto frame = xlogdata(0x16B3748, 0x16B3800, {'B', 1, 2});
  auto incoming = protocol.on_copy_data(frame);
  ASSERT_TRUE(incoming);
  EXPECT_EQ(incoming->kind, Kind::WalData);
  EXPECT_EQ(incoming->lsn, 0x16B3748u);
  ASSERT_EQ(incoming->payload.size(), 3u);
  EXPECT_EQ(incoming->payload.data(), frame.data() + 25) << "a view into the frame";
  EXPECT_EQ(incoming->payload[0], std::byte{'B'});
  EXPECT_TRUE(protocol.received_data());
  EXPECT_EQ(protocol.server_wal_end(), 0x16B3800u);
}

TEST(SessionProtocol, AKeepaliveIsQueuedAsAPositionOnlyWhenItMoved) {
  SessionProtocol protocol(10s, kStart);
  auto first = protocol.on_copy_data(keepalive(0x5000, false));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->kind, Kind::ServerPosition);
  EXPECT_EQ(first->lsn, 0x5000u);
  auto same = protocol.on_copy_data(keepalive(0x5000, false));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->kind, Kind::Nothing);
  auto older = protocol.on_copy_data(keepalive(0x4000, false));
  ASSERT_TRUE(older);
  EXPECT_EQ(older->kind, Kind::Nothing);
  EXPECT_EQ(protocol.server_wal_end(), 0x5000u);
  auto later = protocol.on_copy_data(keepalive(0x5008, false));
  ASSERT_TRUE(later);
  EXPECT_EQ(later->kind, Kind::ServerPosition);
  EXPECT_EQ(later->lsn, 0x5008u);
  EXPECT_FALSE(protocol.received_data()) << "keepalives are not data";
}

TEST(SessionProtocol, AFrameThatIsNeitherIsMalformed) {
  SessionProtocol protocol(10s, kStart);
  std::vector<std::byte> frame{std::byte{'x'}, std::byte{0}};
  auto incoming = protocol.on_copy_data(frame);
  ASSERT_FALSE(incoming);
  EXPECT_EQ(incoming.error().code, StreamErrc::MalformedFrame);
  EXPECT_EQ(incoming.error().message_type, 'x');
  EXPECT_FALSE(incoming.error().is_retryable());
  EXPECT_TRUE(incoming.error().message.starts_with("the server sent a frame that is not valid: "))
      << incoming.error().message;
  const auto whole = xlogdata(1, 2, {});
  auto cut = protocol.on_copy_data(std::span(whole).first(10));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, StreamErrc::MalformedFrame);
}

TEST(SessionProtocol, TheFirstStatusUpdateIsDueAtOnceThenEveryInterval) {
  SessionProtocol protocol(10s, kStart);
  EXPECT_TRUE(protocol.status_due(kStart, 0));
  protocol.status_sent(kStart, 0);
  EXPECT_FALSE(protocol.status_due(kStart + 9999ms, 0));
  EXPECT_EQ(protocol.wake_by(kStart + 1s, 0), kStart + 10s);
  EXPECT_TRUE(protocol.status_due(kStart + 10s, 0));
}

TEST(SessionProtocol, AKeepaliveAskingForAReplyMakesAnUpdateDueNow) {
  SessionProtocol protocol(10s, kStart);
  protocol.status_sent(kStart, 0x100);
  ASSERT_TRUE(protocol.on_copy_data(keepalive(0x200, true)));
  EXPECT_TRUE(protocol.status_due(kStart + 1ms, 0x100));
  EXPECT_EQ(protocol.wake_by(kStart + 1ms, 0x100), kStart + 1ms);
  protocol.status_sent(kStart + 1ms, 0x100);
  EXPECT_FALSE(protocol.status_due(kStart + 2ms, 0x100)) << "answered once";
}

TEST(SessionProtocol, ANewConfirmationIsSentEarlyButNotMoreThanOnceASecond) {
  SessionProtocol protocol(10s, kStart);
  protocol.status_sent(kStart, 0x100);
  EXPECT_FALSE(protocol.confirm_pending(0x100));
  EXPECT_TRUE(protocol.confirm_pending(0x180));
  EXPECT_FALSE(protocol.status_due(kStart + 999ms, 0x180));
  EXPECT_EQ(protocol.wake_by(kStart + 500ms, 0x180), kStart + 1s);
  EXPECT_TRUE(protocol.status_due(kStart + 1s, 0x180));
  protocol.status_sent(kStart + 1s, 0x180);
  EXPECT_FALSE(protocol.confirm_pending(0x180));
  EXPECT_FALSE(protocol.status_due(kStart + 2s, 0x180)) << "nothing new: the interval decides";
}

TEST(SessionProtocol, BulkModeBeginsAfterManyReadsAndEndsOnASmallOne) {
  SessionProtocol protocol(10s, kStart);
  auto now = kStart;
  for (uint32_t i = 1; i < SessionProtocol::kBulkEnterReads; ++i) {
    EXPECT_EQ(protocol.paced(now, 50, true), std::nullopt) << "read " << i;
  }
  EXPECT_EQ(protocol.paced(now, 50, true), SessionProtocol::kBulkLowWater);
  EXPECT_TRUE(protocol.coalescing());
  EXPECT_LE(protocol.wake_by(now, 0), now + SessionProtocol::kBulkMaxWait);
  EXPECT_EQ(protocol.paced(now + 1ms, 4096, true), std::nullopt) << "still a socket full";
  EXPECT_EQ(protocol.paced(now + 2ms, 100, false), std::nullopt)
      << "a wake by the wake fd says nothing of the pace";
  EXPECT_EQ(protocol.paced(now + 3ms, 100, true), 1);
  EXPECT_FALSE(protocol.coalescing());
}

TEST(SessionProtocol, ASteadyTrickleStaysBelowBulkMode) {
  SessionProtocol protocol(10s, kStart);
  // 2,000 transactions a second, one read each: every 500 us.
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(protocol.paced(kStart + i * 500us, 200, true), std::nullopt) << "read " << i;
  }
  EXPECT_FALSE(protocol.coalescing());
}

// Enters bulk mode with a socket full at `now`.
void enter_bulk(SessionProtocol& protocol, Clock::time_point now) {
  ASSERT_EQ(protocol.paced(now, SessionProtocol::kBulkEnterBytes, true),
            SessionProtocol::kBulkLowWater);
}

TEST(SessionProtocol, ASameHostServerCatchingUpIsReadOnTheTimerUntilItSlows) {
  SessionProtocol protocol(10s, kStart, Peer::SameHostTcp);
  protocol.status_sent(kStart, 0);
  enter_bulk(protocol, kStart);
  EXPECT_FALSE(protocol.reads_on_timer());
  // 32 kB every 1 ms: 32 MB/s, a walsender sending as fast as it can.
  auto now = kStart;
  for (int i = 1; i < 20; ++i) {
    now = kStart + i * 1ms;
    EXPECT_EQ(protocol.paced(now, 32 << 10, true), std::nullopt) << "pass " << i;
    EXPECT_FALSE(protocol.reads_on_timer()) << "pass " << i;
  }
  now = kStart + SessionProtocol::kTimedAfter;
  EXPECT_EQ(protocol.paced(now, 32 << 10, true), 1) << "poll() stops waiting for the socket";
  EXPECT_TRUE(protocol.reads_on_timer());
  EXPECT_TRUE(protocol.coalescing());
  EXPECT_EQ(protocol.wake_by(now, 0), now + SessionProtocol::kSameHostPace);
  // A pace that brings its queue keeps it; one below the leave mark ends it.
  now += SessionProtocol::kSameHostPace;
  EXPECT_EQ(protocol.paced(now, 300 << 10, true), std::nullopt);
  EXPECT_TRUE(protocol.reads_on_timer());
  EXPECT_EQ(protocol.paced(now + 1ms, 100, false), std::nullopt)
      << "a wake by the wake fd says nothing of the pace";
  EXPECT_TRUE(protocol.reads_on_timer());
  now += SessionProtocol::kSameHostPace;
  EXPECT_EQ(protocol.paced(now, SessionProtocol::kTimedLeaveBytes - 1, true), std::nullopt);
  EXPECT_FALSE(protocol.reads_on_timer());
  EXPECT_FALSE(protocol.coalescing());
  EXPECT_EQ(protocol.wake_by(now, 0), kStart + 10s) << "back to the status interval";
}

TEST(SessionProtocol, ABurstOnTheSameHostStaysOnTheSocket) {
  // 2 MB/s in bulk mode for a second: a live workload's busy spell, not a
  // server catching up. The timer would add up to kTimedPace of latency.
  SessionProtocol protocol(10s, kStart, Peer::SameHostTcp);
  enter_bulk(protocol, kStart);
  for (int i = 1; i <= 500; ++i) {
    EXPECT_EQ(protocol.paced(kStart + i * 2ms, 4 << 10, true), std::nullopt) << "pass " << i;
    EXPECT_FALSE(protocol.reads_on_timer()) << "pass " << i;
  }
  // Then it speeds up: the next kTimedAfter at full rate starts the timer.
  auto now = kStart + 1s;
  for (int i = 1; i <= 20 && !protocol.reads_on_timer(); ++i) {
    (void)protocol.paced(now + i * 1ms, 32 << 10, true);
  }
  EXPECT_TRUE(protocol.reads_on_timer());
}

TEST(SessionProtocol, AUnixSocketIsNeverReadOnTheTimer) {
  SessionProtocol protocol(10s, kStart, Peer::UnixSocket);
  enter_bulk(protocol, kStart);
  for (int i = 1; i <= 100; ++i) {
    EXPECT_EQ(protocol.paced(kStart + i * 1ms, 32 << 10, true), std::nullopt) << "pass " << i;
  }
  EXPECT_FALSE(protocol.reads_on_timer());
  EXPECT_TRUE(protocol.coalescing());
}

TEST(SessionProtocol, ARemoteServerIsNeverReadOnTheTimer) {
  SessionProtocol protocol(10s, kStart);
  protocol.status_sent(kStart, 0);
  enter_bulk(protocol, kStart);
  for (int i = 1; i <= 100; ++i) {
    EXPECT_EQ(protocol.paced(kStart + i * 1ms, 64 << 10, true), std::nullopt) << "pass " << i;
  }
  EXPECT_FALSE(protocol.reads_on_timer());
  EXPECT_TRUE(protocol.coalescing());
  EXPECT_EQ(protocol.wake_by(kStart + 100ms, 0), kStart + 100ms + SessionProtocol::kBulkMaxWait);
}

TEST(ReconnectState, CountsFailedAttemptsAndGivesUpAfterTheMaximum) {
  ReconnectState state(ReconnectPolicy{100ms, 1000ms, 2}, 7);
  auto first = state.after_lost_session(false, false, 0s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->attempt, 1u);
  EXPECT_GE(first->wait, 80ms);
  EXPECT_LE(first->wait, 120ms);
  auto second = state.after_lost_session(true, false, 1s);  // streamed, but briefly and idle
  ASSERT_TRUE(second);
  EXPECT_EQ(second->attempt, 2u);
  EXPECT_GE(second->wait, 160ms);
  EXPECT_LE(second->wait, 240ms);
  EXPECT_EQ(state.after_lost_session(false, false, 0s), std::nullopt);
}

TEST(ReconnectState, AHealthySessionStartsTheCountAgain) {
  ReconnectState state(ReconnectPolicy{100ms, 1000ms, 2}, 7);
  ASSERT_TRUE(state.after_lost_session(false, false, 0s));
  ASSERT_TRUE(state.after_lost_session(false, false, 0s));
  auto after_data = state.after_lost_session(true, true, 1s);
  ASSERT_TRUE(after_data);
  EXPECT_EQ(after_data->attempt, 1u);
  ASSERT_TRUE(state.after_lost_session(false, false, 0s));
  auto after_long = state.after_lost_session(true, false, kHealthySessionAge);
  ASSERT_TRUE(after_long);
  EXPECT_EQ(after_long->attempt, 1u);
}

TEST(ReconnectState, ZeroAttemptsMeansNeverGiveUp) {
  ReconnectState state(ReconnectPolicy{1ms, 4ms, 0}, 7);
  for (uint32_t i = 1; i <= 100; ++i) {
    auto next = state.after_lost_session(false, false, 0s);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->attempt, i);
    EXPECT_LE(next->wait, 4ms);
  }
}

}  // namespace
}  // namespace vil::replication
