// FrameArena: where queued payloads live between the I/O thread and the
// delivery thread (docs/DESIGN.md §6.1). A payload overwritten before it is
// delivered would deliver wrong data, and blocks never handed back would
// grow memory with the stream, so both are checked, with the hand-back done
// the way ChangeDelivery does it: a block is released once delivery reaches a
// frame of another block.

#include "vil/replication/frame_arena.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <thread>
#include <variant>
#include <vector>

#include "vil/replication/frame_queue.hpp"

namespace vil::replication {
namespace {

using Block = FrameArena::Block;

// The arena's block size (kBlockBytes in frame_arena.cpp); the first test
// pins it, so the others can count on it.
constexpr size_t kBlock = 256u << 10;

// Bytes that say where they came from: frame `n`, offset i.
std::vector<std::byte> payload(uint32_t n, size_t size) {
  std::vector<std::byte> out(size);
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<std::byte>((n * 131 + i) & 0xFF);
  return out;
}

bool holds(std::span<const std::byte> stored, uint32_t n, size_t size) {
  if (stored.size() != size) return false;
  for (size_t i = 0; i < size; ++i) {
    if (stored[i] != static_cast<std::byte>((n * 131 + i) & 0xFF)) return false;
  }
  return true;
}

TEST(FrameArena, ABlockHoldsExactly256KiB) {
  FrameArena arena;
  Block* first = nullptr;
  Block* block = nullptr;
  arena.store(payload(1, 100 << 10), first);
  arena.store(payload(2, 100 << 10), block);
  EXPECT_EQ(block, first);
  arena.store(payload(3, 56 << 10), block);
  EXPECT_EQ(block, first) << "exactly full";
  arena.store(payload(4, 1), block);
  EXPECT_NE(block, first) << "one byte more starts the next block";
}

TEST(FrameArena, StoresACopy) {
  FrameArena arena;
  auto source = payload(7, 300);
  Block* block = nullptr;
  auto stored = arena.store(source, block);
  ASSERT_NE(block, nullptr);
  EXPECT_NE(stored.data(), source.data());
  source.assign(source.size(), std::byte{0});  // libpq's buffer, freed at once
  EXPECT_TRUE(holds(stored, 7, 300));
}

TEST(FrameArena, FramesAreStoredOneAfterAnotherInABlock) {
  FrameArena arena;
  Block* a = nullptr;
  Block* b = nullptr;
  auto first = arena.store(payload(1, 120), a);
  auto second = arena.store(payload(2, 80), b);
  EXPECT_EQ(a, b);
  EXPECT_EQ(second.data(), first.data() + 120);
  EXPECT_TRUE(holds(first, 1, 120));
  EXPECT_TRUE(holds(second, 2, 80));
}

TEST(FrameArena, AnEmptyPayloadIsStored) {
  // A keepalive-sized XLogData with no payload still gets a block, which
  // the delivery thread will release like any other.
  FrameArena arena;
  Block* block = nullptr;
  auto stored = arena.store({}, block);
  EXPECT_NE(block, nullptr);
  EXPECT_TRUE(stored.empty());
}

TEST(FrameArena, AFrameThatDoesNotFitStartsANewBlockAndLeavesTheOldOneIntact) {
  FrameArena arena;
  Block* a = nullptr;
  Block* b = nullptr;
  auto first = arena.store(payload(1, 200 << 10), a);
  auto second = arena.store(payload(2, 100 << 10), b);
  EXPECT_NE(a, b);
  EXPECT_TRUE(holds(first, 1, 200 << 10));
  EXPECT_TRUE(holds(second, 2, 100 << 10));
  // The rest of the first block is not used afterwards: frames stay in
  // storage order, which the hand-back relies on.
  Block* c = nullptr;
  arena.store(payload(3, 10), c);
  EXPECT_EQ(c, b);
}

TEST(FrameArena, AFrameLargerThanABlockGetsABlockOfItsOwn) {
  FrameArena arena;
  Block* small = nullptr;
  Block* large = nullptr;
  Block* next = nullptr;
  auto before = arena.store(payload(1, 1000), small);
  auto big = arena.store(payload(2, kBlock + 44'000), large);
  auto after = arena.store(payload(3, 1), next);
  EXPECT_NE(large, small);
  EXPECT_NE(next, large) << "the large block is full at once";
  EXPECT_NE(next, small) << "storage never goes back to an earlier block";
  EXPECT_TRUE(holds(before, 1, 1000));
  EXPECT_TRUE(holds(big, 2, kBlock + 44'000));
  EXPECT_TRUE(holds(after, 3, 1));
}

TEST(FrameArena, AFrameOfExactlyABlockFillsAUsualBlock) {
  FrameArena arena;
  Block* a = nullptr;
  Block* b = nullptr;
  Block* c = nullptr;
  arena.store(payload(1, kBlock), a);
  arena.store(payload(2, 1), b);
  EXPECT_NE(b, a);
  // Released, a usual block is reused: the next new block is `a` again.
  arena.release(a);
  arena.store(payload(3, kBlock - 1), c);
  EXPECT_EQ(c, b);
  arena.store(payload(4, 1), c);
  EXPECT_EQ(c, a);
}

TEST(FrameArena, AReleasedBlockIsReusedForTheNextBlock) {
  FrameArena arena;
  Block* a = nullptr;
  Block* b = nullptr;
  Block* c = nullptr;
  auto first = arena.store(payload(1, 200 << 10), a);
  arena.store(payload(2, 200 << 10), b);
  ASSERT_NE(a, b);
  arena.release(a);
  auto third = arena.store(payload(3, 200 << 10), c);
  EXPECT_EQ(c, a);
  EXPECT_EQ(third.data(), first.data()) << "reused from its start";
  EXPECT_TRUE(holds(third, 3, 200 << 10));
}

TEST(FrameArena, ALargeBlockIsFreedNotReused) {
  // Were a released large block taken as a usual one, the next block would
  // hold more than 256 KiB; it holds exactly that.
  FrameArena arena;
  Block* large = nullptr;
  Block* c = nullptr;
  Block* d = nullptr;
  arena.store(payload(1, 2 * kBlock), large);
  arena.store(payload(2, kBlock), c);
  arena.release(large);
  arena.store(payload(3, 1), d);
  ASSERT_NE(d, c);
  Block* e = nullptr;
  arena.store(payload(4, kBlock - 1), e);
  EXPECT_EQ(e, d);
  arena.store(payload(5, 1), e);
  EXPECT_NE(e, d) << "the block after a freed large one holds 256 KiB, no more";
}

TEST(FrameArena, MemoryStaysFlatWhenBlocksAreHandedBack) {
  // 64 MiB of frames through an arena whose blocks are released as
  // delivery passes them: two blocks in all, reused in turn.
  FrameArena arena;
  std::set<Block*> blocks;
  Block* current = nullptr;
  for (uint32_t n = 0; n < 6'700; ++n) {
    Block* block = nullptr;
    auto stored = arena.store(payload(n, 10'000), block);
    ASSERT_TRUE(holds(stored, n, 10'000));
    blocks.insert(block);
    if (block != current) {
      if (current != nullptr) arena.release(current);
      current = block;
    }
  }
  EXPECT_EQ(blocks.size(), 2u);
}

TEST(FrameArena, TheDeliveryThreadHandsBlocksBackWhileTheIoThreadStores) {
  // The two threads as in a run: the I/O thread stores and queues frames
  // while the queue has room; the delivery thread checks each payload and
  // releases a block once it reaches a frame of another one. A block reused
  // too early would show as a payload overwritten; blocks not reused would
  // show as more blocks than the queue's bound can hold.
  constexpr uint32_t kFrames = 5'000;
  constexpr size_t kQueueBytes = 1u << 20;
  FrameArena arena;
  FrameQueue queue(kQueueBytes);
  auto size_of = [](uint32_t n) -> size_t {
    // Mostly rows of up to 20 KiB, now and then one larger than a block.
    return n % 997 == 0 ? kBlock + 1000 : 1 + (n * 7919) % 20'000;
  };

  bool io_stalled = false;  // read after join()
  std::thread io([&] {
    std::vector<QueueItem> batch;
    uint32_t n = 0;
    while (n < kFrames) {
      // Waits for room by looking again: the delivery thread below never
      // stops releasing, so it needs no wake-up; the wait is bounded.
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!queue.has_room() && !io_stalled) {
        io_stalled = std::chrono::steady_clock::now() > give_up;
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
      if (io_stalled) break;
      const size_t size = size_of(n);
      WalFrame frame{n, {}, nullptr, size};
      frame.payload = arena.store(payload(n, size), frame.block);
      batch.emplace_back(frame);
      queue.push(batch, size);
      ++n;
    }
    batch.emplace_back(IoFinished{});
    queue.push(batch, 0);
  });

  std::set<Block*> usual_blocks;
  Block* current = nullptr;
  uint32_t expected = 0;
  int64_t first_bad = -1;  // the first frame whose payload was not its own
  bool finished = false;
  bool stalled = false;
  std::vector<QueueItem> taken;
  while (!finished) {
    if (!queue.pop_all(taken, std::chrono::seconds(5))) {
      stalled = true;
      break;
    }
    size_t released = 0;
    for (const auto& item : taken) {
      if (std::holds_alternative<IoFinished>(item)) {
        finished = true;
        break;
      }
      const auto& frame = std::get<WalFrame>(item);
      if (frame.block != current) {
        if (current != nullptr) arena.release(current);
        current = frame.block;
      }
      if (frame.payload.size() <= kBlock) usual_blocks.insert(frame.block);
      const bool intact =
          frame.wal_start == expected && holds(frame.payload, expected, size_of(expected));
      if (!intact && first_bad < 0) first_bad = expected;
      ++expected;
      released += frame.frame_bytes;
    }
    taken.clear();
    queue.release(released);
  }
  io.join();

  EXPECT_FALSE(stalled);
  EXPECT_FALSE(io_stalled);
  EXPECT_EQ(first_bad, -1) << "a payload was overwritten, or a frame lost or reordered";
  EXPECT_EQ(expected, kFrames);
  // A new usual block is made only when none was handed back, so the count
  // of usual blocks is the most ever in use at once: those holding frames not
  // yet delivered (at most the bound plus one frame, in blocks with up to
  // 20 KiB unused at the end, and one partly delivered), the one delivery is
  // in, and the new one. Without reuse it would be hundreds.
  constexpr size_t kUndelivered = kQueueBytes + 20'000;
  constexpr size_t kBound = (kUndelivered + kBlock - 20'000 - 1) / (kBlock - 20'000) + 1 + 2;
  EXPECT_LE(usual_blocks.size(), kBound);
}

}  // namespace
}  // namespace vil::replication
