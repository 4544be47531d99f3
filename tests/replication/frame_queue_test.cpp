// FrameQueue: the hand-over from the I/O thread to the delivery thread
// (docs/DESIGN.md §6.1, §6.2 steps 4, 6 and 8). Order must hold, the byte
// bound is what turns a slow owner into TCP backpressure, and a lost wake-up
// would stall a run, so each is checked here. The queue never blocks the I/O
// thread: it reports has_room() and the I/O thread stops reading.

#include "vil/replication/frame_queue.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <mutex>
#include <thread>
#include <variant>
#include <vector>

namespace vil::replication {
namespace {

using namespace std::chrono_literals;

// Long enough for a loaded machine; a test that hits it has failed.
constexpr auto kHang = 5s;
// A consumer's wait that only a wake or a push should end: longer than kHang,
// short enough that a failing test still ends soon.
constexpr auto kPopWait = 2 * kHang;

// Lets a thread that just started reach its wait, so that the test goes down
// the waiting path; a slow thread takes the other path and the test still
// holds, so this is no assertion on speed.
void settle() {
  std::this_thread::sleep_for(50ms);
}

QueueItem frame(uint64_t wal_start, size_t bytes) {
  return WalFrame{wal_start, {}, nullptr, bytes};
}

// What an item is, in one comparable word: the frame's wal_start, or a tag.
uint64_t tag_of(const QueueItem& item) {
  if (const auto* f = std::get_if<WalFrame>(&item)) return f->wal_start;
  if (const auto* s = std::get_if<SessionStarted>(&item)) return 0xA000 + s->protocol_version;
  if (const auto* c = std::get_if<ServerPosition>(&item)) return 0xB000'0000 + c->lsn;
  return 0xF1F1;  // IoFinished
}

std::vector<uint64_t> tags(const std::vector<QueueItem>& items) {
  std::vector<uint64_t> out;
  for (const auto& item : items) out.push_back(tag_of(item));
  return out;
}

TEST(FrameQueue, KeepsTheOrderOfItemsAcrossBatches) {
  FrameQueue queue(1000);
  std::vector<QueueItem> batch{SessionStarted{4, 0, {}}, frame(0x10, 50), frame(0x20, 50)};
  queue.push(batch, 100);
  batch = {frame(0x30, 50), ServerPosition{0x40}, IoFinished{}};
  queue.push(batch, 50);
  std::vector<QueueItem> out;
  ASSERT_TRUE(queue.pop_all(out, 0ms));
  EXPECT_EQ(tags(out), (std::vector<uint64_t>{0xA004, 0x10, 0x20, 0x30, 0xB000'0040, 0xF1F1}));
}

TEST(FrameQueue, PopAllTakesEverythingQueued) {
  FrameQueue queue(1000);
  std::vector<QueueItem> batch{frame(1, 10), frame(2, 10)};
  queue.push(batch, 20);
  std::vector<QueueItem> out;
  ASSERT_TRUE(queue.pop_all(out, 0ms));
  EXPECT_EQ(out.size(), 2u);
  EXPECT_TRUE(queue.empty());
  std::vector<QueueItem> again;
  EXPECT_FALSE(queue.pop_all(again, 0ms));
  EXPECT_TRUE(again.empty());
}

TEST(FrameQueue, PushEmptiesTheCallersBatchForReuse) {
  FrameQueue queue(1000);
  std::vector<QueueItem> batch{frame(1, 10)};
  queue.push(batch, 10);
  EXPECT_TRUE(batch.empty());
  // Into a queue that already holds items (the append path, not the swap).
  batch = {frame(2, 10), frame(3, 10)};
  queue.push(batch, 20);
  EXPECT_TRUE(batch.empty());
  std::vector<QueueItem> out;
  ASSERT_TRUE(queue.pop_all(out, 0ms));
  EXPECT_EQ(tags(out), (std::vector<uint64_t>{1, 2, 3}));
}

TEST(FrameQueue, AnEmptyBatchQueuesNothing) {
  FrameQueue queue(100);
  std::vector<QueueItem> batch;
  queue.push(batch, 0);
  EXPECT_TRUE(queue.empty());
  EXPECT_TRUE(queue.drained());
  std::vector<QueueItem> out;
  EXPECT_FALSE(queue.pop_all(out, 0ms));
}

TEST(FrameQueue, HasRoomUntilTheQueuedBytesReachTheBound) {
  FrameQueue queue(100);
  EXPECT_TRUE(queue.has_room());
  std::vector<QueueItem> batch{frame(1, 99)};
  queue.push(batch, 99);
  EXPECT_TRUE(queue.has_room());
  batch = {frame(2, 1)};
  queue.push(batch, 1);
  EXPECT_FALSE(queue.has_room()) << "exactly at the bound is full";
}

TEST(FrameQueue, TheBoundIsNotARefusalABatchIsTakenWhole) {
  // The I/O thread asks has_room() once, then reads up to a batch: what it
  // read is queued in full, even past the bound, never dropped.
  FrameQueue queue(100);
  std::vector<QueueItem> batch{frame(1, 90), frame(2, 90), frame(3, 90)};
  queue.push(batch, 270);
  EXPECT_FALSE(queue.has_room());
  batch = {frame(4, 50)};
  queue.push(batch, 50);
  std::vector<QueueItem> out;
  ASSERT_TRUE(queue.pop_all(out, 0ms));
  EXPECT_EQ(tags(out), (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST(FrameQueue, TakenFramesCountAgainstTheBoundUntilReleased) {
  // Room comes from delivery, not from taking: frames being delivered still
  // hold their memory.
  FrameQueue queue(100);
  std::vector<QueueItem> batch{frame(1, 100)};
  queue.push(batch, 100);
  std::vector<QueueItem> out;
  ASSERT_TRUE(queue.pop_all(out, 0ms));
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.has_room());
  EXPECT_FALSE(queue.drained());
  EXPECT_TRUE(queue.release(40));
  EXPECT_TRUE(queue.has_room());
  EXPECT_FALSE(queue.drained());
  EXPECT_FALSE(queue.release(60));
  EXPECT_TRUE(queue.drained());
}

TEST(FrameQueue, ReleaseSaysRoomOnlyWhenItEndsAFullQueue) {
  // true means "wake the I/O thread, which stopped reading": once, when the
  // queue goes from full to having room, and not otherwise.
  FrameQueue queue(100);
  std::vector<QueueItem> batch{frame(1, 150)};
  queue.push(batch, 150);
  EXPECT_FALSE(queue.release(20)) << "130 left: still full";
  EXPECT_FALSE(queue.release(30)) << "100 left: still exactly full";
  EXPECT_TRUE(queue.release(1)) << "99 left: room again";
  EXPECT_FALSE(queue.release(9)) << "it was not full";
  EXPECT_TRUE(queue.has_room());
}

TEST(FrameQueue, ControlItemsAreTakenWhenTheQueueIsFull) {
  // IoFinished must reach the delivery thread whatever the queue holds, or
  // the run never ends; control items carry no bytes.
  FrameQueue queue(100);
  std::vector<QueueItem> batch{frame(1, 100)};
  queue.push(batch, 100);
  ASSERT_FALSE(queue.has_room());
  batch = {ServerPosition{0x900}, IoFinished{}};
  queue.push(batch, 0);
  EXPECT_FALSE(queue.has_room());
  std::vector<QueueItem> out;
  ASSERT_TRUE(queue.pop_all(out, 0ms));
  EXPECT_EQ(tags(out), (std::vector<uint64_t>{1, 0xB000'0900, 0xF1F1}));
  EXPECT_TRUE(queue.release(100));
  EXPECT_TRUE(queue.drained());
}

TEST(FrameQueue, PopAllTimesOutWithNothingQueued) {
  FrameQueue queue(100);
  std::vector<QueueItem> out;
  EXPECT_FALSE(queue.pop_all(out, 20ms));
  EXPECT_TRUE(out.empty());
}

TEST(FrameQueue, AWakeBeforePopAllIsNotLost) {
  // stop() or pause() may wake the delivery thread just before it waits.
  FrameQueue queue(100);
  queue.wake_consumer();
  std::vector<QueueItem> out;
  auto popped = std::async(std::launch::async, [&] { return queue.pop_all(out, kPopWait); });
  ASSERT_EQ(popped.wait_for(kHang), std::future_status::ready) << "the wake was lost";
  EXPECT_FALSE(popped.get()) << "woken with nothing queued";
}

TEST(FrameQueue, AWakeIsConsumedOnce) {
  FrameQueue queue(100);
  queue.wake_consumer();
  std::vector<QueueItem> out;
  EXPECT_FALSE(queue.pop_all(out, 0ms));
  EXPECT_FALSE(queue.pop_all(out, 20ms)) << "timed out: nothing queued, no wake";
  // A wake with items queued returns them, and is used up by that pop.
  queue.wake_consumer();
  std::vector<QueueItem> batch{frame(7, 10)};
  queue.push(batch, 10);
  ASSERT_TRUE(queue.pop_all(out, 0ms));
  EXPECT_EQ(tags(out), (std::vector<uint64_t>{7}));
  std::vector<QueueItem> none;
  EXPECT_FALSE(queue.pop_all(none, 20ms)) << "timed out: the wake was used up";
}

TEST(FrameQueue, AWakeEndsAWaitingPopAll) {
  FrameQueue queue(100);
  std::vector<QueueItem> out;
  std::promise<void> waiting;
  auto popped = std::async(std::launch::async, [&] {
    waiting.set_value();
    return queue.pop_all(out, kPopWait);
  });
  waiting.get_future().wait();
  settle();
  queue.wake_consumer();
  ASSERT_EQ(popped.wait_for(kHang), std::future_status::ready) << "pop_all was not woken";
  EXPECT_FALSE(popped.get());
  EXPECT_TRUE(out.empty());
}

TEST(FrameQueue, APushEndsAWaitingPopAll) {
  FrameQueue queue(100);
  std::vector<QueueItem> out;
  std::promise<void> waiting;
  auto popped = std::async(std::launch::async, [&] {
    waiting.set_value();
    return queue.pop_all(out, kPopWait);
  });
  waiting.get_future().wait();
  settle();
  std::vector<QueueItem> batch{SessionStarted{3, 0, {}}, frame(0x10, 10)};
  queue.push(batch, 10);
  ASSERT_EQ(popped.wait_for(kHang), std::future_status::ready) << "pop_all was not woken";
  ASSERT_TRUE(popped.get());
  EXPECT_EQ(tags(out), (std::vector<uint64_t>{0xA003, 0x10}));
}

// The I/O thread's wake-up: sticky like its eventfd, so a notify that comes
// before the wait is not lost.
class RoomSignal {
 public:
  void notify() {
    {
      std::lock_guard lock(mutex_);
      set_ = true;
    }
    changed_.notify_one();
  }
  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return set_; })) return false;
    set_ = false;
    return true;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool set_ = false;
};

TEST(FrameQueue, AProducerStoppedAtTheBoundIsAlwaysWokenAgain) {
  // The I/O and delivery threads as in a run (§6.2 step 8): the producer
  // reads only while has_room(), else waits to be told of room; the consumer
  // releases what it delivered and says so when release() returns true. A
  // missed "room again" would leave the producer waiting for good; a
  // reordering or a lost item would show in the sequence.
  constexpr uint64_t kFrames = 20'000;
  constexpr size_t kFrameBytes = 100;
  FrameQueue queue(1000);  // ten frames
  RoomSignal room;
  bool producer_stalled = false;

  std::thread producer([&] {
    std::vector<QueueItem> batch{SessionStarted{4, 0, {}}};
    uint64_t next = 1;
    while (next <= kFrames) {
      if (!queue.has_room()) {
        if (!room.wait(kHang)) {
          producer_stalled = true;
          break;
        }
        continue;
      }
      // Batches of up to 3 frames, so a batch may pass the bound.
      size_t bytes = 0;
      for (int i = 0; i < 3 && next <= kFrames; ++i, ++next) {
        batch.push_back(frame(next, kFrameBytes));
        bytes += kFrameBytes;
      }
      queue.push(batch, bytes);
    }
    batch.push_back(IoFinished{});
    queue.push(batch, 0);
  });

  uint64_t expected = 1;
  bool in_order = true;
  bool started = false;
  bool finished = false;
  bool consumer_stalled = false;
  std::vector<QueueItem> out;
  while (!finished) {
    if (!queue.pop_all(out, kHang)) {
      consumer_stalled = true;
      break;
    }
    size_t delivered = 0;
    for (const auto& item : out) {
      if (const auto* f = std::get_if<WalFrame>(&item)) {
        in_order = in_order && started && f->wal_start == expected;
        ++expected;
        delivered += f->frame_bytes;
      } else if (std::holds_alternative<SessionStarted>(item)) {
        started = true;
      } else if (std::holds_alternative<IoFinished>(item)) {
        finished = true;
      }
    }
    out.clear();
    if (queue.release(delivered)) room.notify();
  }
  producer.join();

  EXPECT_FALSE(producer_stalled) << "the producer was never told of room";
  EXPECT_FALSE(consumer_stalled);
  EXPECT_TRUE(in_order);
  EXPECT_EQ(expected, kFrames + 1);
  EXPECT_TRUE(queue.drained());
}

}  // namespace
}  // namespace vil::replication
