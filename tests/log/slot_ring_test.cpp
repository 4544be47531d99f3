#include "log/slot_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

using vil::log::LogSlot;
using vil::log::detail::SlotRing;

LogSlot numbered(std::uint64_t writer, std::uint64_t sequence) {
  LogSlot slot;
  slot.header.trace_id = writer;
  slot.header.tenant_id = sequence;
  return slot;
}

TEST(SlotRing, FifoUntilFullThenRefusesThenReusesCells) {
  SlotRing ring(4);
  EXPECT_EQ(ring.capacity(), 4u);
  LogSlot out;
  EXPECT_FALSE(ring.try_pop(out));
  for (std::uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(ring.try_push(numbered(0, i)));
  EXPECT_FALSE(ring.try_push(numbered(0, 4)));
  for (std::uint64_t lap = 0; lap < 3; ++lap) {
    ASSERT_TRUE(ring.try_pop(out));
    EXPECT_EQ(out.header.tenant_id, lap);
    EXPECT_TRUE(ring.try_push(numbered(0, 4 + lap)));
    EXPECT_FALSE(ring.try_push(numbered(0, 99)));
  }
  for (std::uint64_t i = 3; i < 7; ++i) {
    ASSERT_TRUE(ring.try_pop(out));
    EXPECT_EQ(out.header.tenant_id, i);
  }
  EXPECT_FALSE(ring.try_pop(out));
}

// Many producers on one small ring with a concurrent consumer: every record
// arrives once, each producer's in order. Built with -fsanitize=thread this is
// the check that the cell hand-over is properly ordered.
TEST(SlotRing, ProducersAndConsumerRace) {
  constexpr std::uint64_t kWriters = 4;
  constexpr std::uint64_t kPerWriter = 20000;
  SlotRing ring(8);
  std::atomic<std::uint64_t> refused{0};
  std::vector<std::thread> writers;
  for (std::uint64_t w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (std::uint64_t i = 0; i < kPerWriter; ++i) {
        while (!ring.try_push(numbered(w, i))) {
          refused.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();
        }
      }
    });
  }
  std::vector<std::uint64_t> next(kWriters, 0);
  std::uint64_t received = 0;
  std::uint64_t out_of_order = 0;  // counted, not asserted: the writers must still finish
  LogSlot out;
  while (received < kWriters * kPerWriter) {
    if (!ring.try_pop(out)) {
      std::this_thread::yield();
      continue;
    }
    ++received;
    const std::uint64_t writer = out.header.trace_id;
    if (writer >= kWriters || out.header.tenant_id != next[writer]) {
      ++out_of_order;
      continue;
    }
    ++next[writer];
  }
  for (auto& writer : writers) writer.join();
  EXPECT_FALSE(ring.try_pop(out));
  EXPECT_EQ(out_of_order, 0u);
  for (std::uint64_t w = 0; w < kWriters; ++w) EXPECT_EQ(next[w], kPerWriter);
}

}  // namespace
