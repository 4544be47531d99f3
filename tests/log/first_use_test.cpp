// The process-wide logger's first use when memory is short: mq_log is
// noexcept, so a failed creation must count a drop, not terminate. A binary of
// its own: it replaces operator new, and needs the global logger not yet made.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "log/capturing_sink.hpp"
#include "vil/log/logger.hpp"

namespace {
// While set, allocations of 64 KiB or more fail (a ring is 256 KiB).
std::atomic<bool> refuse_large{false};
constexpr std::size_t kLarge = 64 * 1024;

void* allocate(std::size_t size, std::size_t alignment) {
  if (refuse_large.load(std::memory_order_relaxed) && size >= kLarge) throw std::bad_alloc();
  if (size == 0) size = 1;
  void* p = nullptr;
  if (alignment <= alignof(std::max_align_t)) {
    p = std::malloc(size);
  } else if (::posix_memalign(&p, alignment, size) != 0) {
    p = nullptr;
  }
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t size) {
  return allocate(size, alignof(std::max_align_t));
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  return allocate(size, static_cast<std::size_t>(alignment));
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

namespace {

using namespace vil::log;

TEST(GlobalLoggerFirstUse, OutOfMemoryIsADropAndTheNextCallTriesAgain) {
  MqPayload payload;
  payload.offset = 1;
  refuse_large.store(true);
  mq_log(LogLevel::Info, payload);  // would terminate if the bad_alloc escaped
  mq_log(LogLevel::Info, payload);
  set_level(LogLevel::Info);
  const LogLevel seen = level();
  const std::uint64_t lost = dropped();
  refuse_large.store(false);
  EXPECT_EQ(seen, LogLevel::Info);
  EXPECT_EQ(lost, 2u);

  // With memory back, the next record makes the logger and arrives.
  static std::vector<LogSlot> slots;
  payload.offset = 2;
  mq_log(LogLevel::Info, payload);
  logger().add_sink(std::make_unique<test::CapturingSink>(slots));
  EXPECT_EQ(logger().drain_once(), 1u);
  ASSERT_EQ(slots.size(), 1u);
  EXPECT_EQ(as_mq_payload(slots[0]).offset, 2u);
  EXPECT_EQ(dropped(), 2u);
  logger().clear_sinks();
}

}  // namespace
