#include "vil/log/logger.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "log/capturing_sink.hpp"

namespace {

using namespace vil::log;
using vil::log::test::CapturingSink;

MqPayload numbered(std::uint32_t writer, std::uint64_t sequence) {
  MqPayload payload;
  payload.broker_hash = writer;
  payload.offset = sequence;
  return payload;
}

// Per writer, the offsets that arrived, in arrival order.
std::map<std::uint32_t, std::vector<std::uint64_t>> by_writer(const std::vector<LogSlot>& slots) {
  std::map<std::uint32_t, std::vector<std::uint64_t>> result;
  for (const LogSlot& slot : slots) {
    const MqPayload payload = as_mq_payload(slot);
    result[payload.broker_hash].push_back(payload.offset);
  }
  return result;
}

std::vector<std::uint64_t> iota(std::uint64_t count) {
  std::vector<std::uint64_t> values(count);
  for (std::uint64_t i = 0; i < count; ++i) values[i] = i;
  return values;
}

TEST(Logger, StampsTheHeader) {
  std::vector<LogSlot> slots;
  Logger logger(LogConfig{.service_hash = 11, .handler_hash = 22, .node_hash = 33});
  logger.add_sink(std::make_unique<CapturingSink>(slots));
  const auto before =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  MqPayload payload = numbered(1, 2);
  payload.topic_hash = 0x3237d54d;
  payload.op_type = MqOp::Ack;
  ASSERT_TRUE(logger.mq_log(LogLevel::Warn, payload));
  ASSERT_TRUE(logger.mq_log(LogLevel::Warn, payload));
  const auto after =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  ASSERT_EQ(logger.drain_once(), 2u);
  ASSERT_EQ(slots.size(), 2u);
  const VilLogHeader& header = slots[0].header;
  EXPECT_EQ(header.level, LogLevel::Warn);
  EXPECT_EQ(header.category, LogCategory::Mq);
  EXPECT_EQ(header.subcategory, 0);
  EXPECT_EQ(header.version, 1);
  EXPECT_EQ(header.process_id, static_cast<std::uint64_t>(::getpid()));
  EXPECT_EQ(header.trace_id, 0u);
  EXPECT_EQ(header.tenant_id, 0u);
  EXPECT_EQ(header.service_hash, 11u);
  EXPECT_EQ(header.handler_hash, 22u);
  EXPECT_EQ(header.node_hash, 33u);
  EXPECT_LE(before, header.timestamp_ns);
  EXPECT_LE(header.timestamp_ns, after);
  EXPECT_EQ(as_mq_payload(slots[0]), payload);
  EXPECT_NE(slots[0].header.event_id, slots[1].header.event_id);

  logger.set_identity(1, 2, 3);
  ASSERT_TRUE(logger.mq_log(LogLevel::Warn, payload));
  ASSERT_EQ(logger.drain_once(), 1u);
  EXPECT_EQ(slots[2].header.service_hash, 1u);
  EXPECT_EQ(slots[2].header.handler_hash, 2u);
  EXPECT_EQ(slots[2].header.node_hash, 3u);
}

TEST(Logger, StampsTheTimeTheCallerGives) {
  std::vector<LogSlot> slots;
  Logger logger(LogConfig{.level = LogLevel::Info});
  logger.add_sink(std::make_unique<CapturingSink>(slots));
  const MqPayload payload = numbered(3, 4);
  ASSERT_TRUE(logger.mq_log(LogLevel::Info, payload, 1'796'000'000'123'456'789u));
  EXPECT_FALSE(logger.mq_log(LogLevel::Debug, payload, 5u));  // filtered as without a time
  ASSERT_EQ(logger.drain_once(), 1u);
  ASSERT_EQ(slots.size(), 1u);
  EXPECT_EQ(slots[0].header.timestamp_ns, 1'796'000'000'123'456'789u);
  EXPECT_EQ(slots[0].header.category, LogCategory::Mq);
  EXPECT_EQ(as_mq_payload(slots[0]), payload);
}

TEST(Logger, LevelFilter) {
  std::vector<LogSlot> slots;
  Logger logger(LogConfig{.level = LogLevel::Warn});
  logger.add_sink(std::make_unique<CapturingSink>(slots));
  EXPECT_EQ(logger.level(), LogLevel::Warn);
  EXPECT_FALSE(logger.mq_log(LogLevel::Trace, numbered(0, 0)));
  EXPECT_FALSE(logger.mq_log(LogLevel::Info, numbered(0, 1)));
  EXPECT_TRUE(logger.mq_log(LogLevel::Warn, numbered(0, 2)));
  EXPECT_TRUE(logger.mq_log(LogLevel::Fatal, numbered(0, 3)));
  logger.set_level(LogLevel::Trace);
  EXPECT_TRUE(logger.mq_log(LogLevel::Trace, numbered(0, 4)));
  logger.set_level(LogLevel::Fatal);
  EXPECT_FALSE(logger.mq_log(LogLevel::Error, numbered(0, 5)));
  EXPECT_EQ(logger.drain_once(), 3u);
  EXPECT_EQ(by_writer(slots)[0], (std::vector<std::uint64_t>{2, 3, 4}));
  EXPECT_EQ(logger.dropped(), 0u);  // filtered is not dropped
}

TEST(Logger, GeometryIsRoundedUp) {
  const Logger logger(LogConfig{.stripes = 3, .ring_capacity = 100});
  EXPECT_EQ(logger.stripes(), 3u);
  EXPECT_EQ(logger.ring_capacity(), 128u);
  EXPECT_LT(logger.stripe_of_this_thread(), 3u);
}

TEST(Logger, NoSinkDiscardsDrainedRecords) {
  Logger logger;
  EXPECT_TRUE(logger.mq_log(LogLevel::Info, numbered(0, 0)));
  EXPECT_EQ(logger.drain_once(), 1u);
  EXPECT_EQ(logger.drain_once(), 0u);
}

// Writers fill rings that nobody drains: each ring keeps exactly its capacity,
// everything else is counted as dropped, and what was kept is each writer's
// first records in order.
TEST(Logger, DropsAreCountedExactlyWhenRingsAreFull) {
  constexpr std::size_t kWriters = 6;
  constexpr std::uint64_t kPerWriter = 300;
  std::vector<LogSlot> slots;  // outlives the logger, whose shutdown drains into it
  Logger logger(LogConfig{.stripes = 4, .ring_capacity = 64});
  std::vector<std::size_t> stripe_of(kWriters);
  std::vector<std::uint64_t> accepted(kWriters, 0);
  std::vector<std::thread> writers;
  for (std::size_t w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      stripe_of[w] = logger.stripe_of_this_thread();
      for (std::uint64_t i = 0; i < kPerWriter; ++i) {
        if (logger.mq_log(LogLevel::Info, numbered(static_cast<std::uint32_t>(w), i))) {
          ++accepted[w];
        }
      }
    });
  }
  for (auto& writer : writers) writer.join();

  std::map<std::size_t, std::uint64_t> written_per_stripe;
  for (std::size_t w = 0; w < kWriters; ++w) written_per_stripe[stripe_of[w]] += kPerWriter;
  std::uint64_t expected_kept = 0;
  for (const auto& [stripe, written] : written_per_stripe) {
    expected_kept += std::min<std::uint64_t>(written, 64);
  }
  std::uint64_t accepted_total = 0;
  for (const std::uint64_t n : accepted) accepted_total += n;
  EXPECT_EQ(accepted_total, expected_kept);
  EXPECT_EQ(logger.dropped(), kWriters * kPerWriter - expected_kept);

  logger.add_sink(std::make_unique<CapturingSink>(slots));
  EXPECT_EQ(logger.drain_once(), expected_kept);
  const auto arrived = by_writer(slots);
  for (std::size_t w = 0; w < kWriters; ++w) {
    const auto it = arrived.find(static_cast<std::uint32_t>(w));
    const std::vector<std::uint64_t> got =
        it == arrived.end() ? std::vector<std::uint64_t>{} : it->second;
    EXPECT_EQ(got, iota(accepted[w])) << "writer " << w;
  }
  // The rings have room again.
  EXPECT_TRUE(logger.mq_log(LogLevel::Info, numbered(0, 0)));
}

// Rings large enough for every record and a drain thread running alongside the
// writers: nothing is lost, each writer's records arrive complete and in order.
TEST(Logger, NothingLostWhileThereIsRoom) {
  constexpr std::size_t kWriters = 4;
  constexpr std::uint64_t kPerWriter = 1000;
  std::vector<LogSlot> slots;
  Logger logger(LogConfig{
      .stripes = 4, .ring_capacity = 4096, .drain_idle_sleep = std::chrono::microseconds(50)});
  logger.add_sink(std::make_unique<CapturingSink>(slots));
  logger.start_drain();
  EXPECT_TRUE(logger.draining());
  std::vector<std::thread> writers;
  std::atomic<std::uint64_t> refused{0};
  for (std::size_t w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (std::uint64_t i = 0; i < kPerWriter; ++i) {
        if (!logger.mq_log(LogLevel::Info, numbered(static_cast<std::uint32_t>(w), i))) {
          refused.fetch_add(1);
        }
      }
    });
  }
  for (auto& writer : writers) writer.join();
  logger.shutdown();
  EXPECT_FALSE(logger.draining());
  EXPECT_EQ(refused.load(), 0u);
  EXPECT_EQ(logger.dropped(), 0u);
  ASSERT_EQ(slots.size(), kWriters * kPerWriter);
  const auto arrived = by_writer(slots);
  ASSERT_EQ(arrived.size(), kWriters);
  for (const auto& [writer, offsets] : arrived) {
    EXPECT_EQ(offsets, iota(kPerWriter)) << "writer " << writer;
  }
  std::set<std::pair<std::uint64_t, std::uint64_t>> ids;
  for (const LogSlot& slot : slots) ids.emplace(slot.header.event_id.hi, slot.header.event_id.lo);
  EXPECT_EQ(ids.size(), slots.size());
}

// One tiny ring shared by every writer, with the drain running: writers retry
// refused records, so each refusal is one counted drop and nothing else is lost.
TEST(Logger, SharedTinyRingUnderContention) {
  constexpr std::size_t kWriters = 4;
  constexpr std::uint64_t kPerWriter = 5000;
  std::vector<LogSlot> slots;
  Logger logger(LogConfig{
      .stripes = 1, .ring_capacity = 8, .drain_idle_sleep = std::chrono::microseconds(10)});
  logger.add_sink(std::make_unique<CapturingSink>(slots));
  logger.start_drain();
  std::atomic<std::uint64_t> refused{0};
  std::vector<std::thread> writers;
  for (std::size_t w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (std::uint64_t i = 0; i < kPerWriter; ++i) {
        while (!logger.mq_log(LogLevel::Info, numbered(static_cast<std::uint32_t>(w), i))) {
          refused.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& writer : writers) writer.join();
  logger.shutdown();
  EXPECT_EQ(logger.dropped(), refused.load());
  ASSERT_EQ(slots.size(), kWriters * kPerWriter);
  for (const auto& [writer, offsets] : by_writer(slots)) {
    EXPECT_EQ(offsets, iota(kPerWriter)) << "writer " << writer;
  }
}

TEST(Logger, ShutdownDrainsWhatIsLeftAndCanRestart) {
  std::vector<LogSlot> slots;
  Logger logger(LogConfig{.drain_idle_sleep = std::chrono::microseconds(100)});
  logger.add_sink(std::make_unique<CapturingSink>(slots));
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(logger.mq_log(LogLevel::Info, numbered(0, i)));
  logger.start_drain();
  logger.start_drain();  // already running: no second thread
  for (std::uint64_t i = 10; i < 20; ++i)
    ASSERT_TRUE(logger.mq_log(LogLevel::Info, numbered(0, i)));
  logger.shutdown();
  EXPECT_EQ(by_writer(slots)[0], iota(20));
  logger.start_drain();
  for (std::uint64_t i = 20; i < 30; ++i)
    ASSERT_TRUE(logger.mq_log(LogLevel::Info, numbered(0, i)));
  logger.shutdown();
  EXPECT_EQ(by_writer(slots)[0], iota(30));
}

class ThrowingSink final : public Sink {
 public:
  void write(const LogSlot&) override { throw std::runtime_error("disk full"); }
};

TEST(Logger, ThrowingSinkIsCountedAndOthersStillWrite) {
  std::vector<LogSlot> slots;
  Logger logger;
  logger.add_sink(std::make_unique<ThrowingSink>());
  logger.add_sink(std::make_unique<CapturingSink>(slots));
  ASSERT_TRUE(logger.mq_log(LogLevel::Info, numbered(0, 0)));
  ASSERT_TRUE(logger.mq_log(LogLevel::Info, numbered(0, 1)));
  EXPECT_EQ(logger.drain_once(), 2u);
  EXPECT_EQ(logger.sink_failures(), 2u);
  EXPECT_EQ(slots.size(), 2u);
  logger.clear_sinks();
  ASSERT_TRUE(logger.mq_log(LogLevel::Info, numbered(0, 2)));
  EXPECT_EQ(logger.drain_once(), 1u);
  EXPECT_EQ(slots.size(), 2u);
}

// A sink that logs a new record for every one it is given, until told to
// stop: the rings are never seen empty, whatever the scheduler does.
class RelayingSink final : public Sink {
 public:
  RelayingSink(Logger& logger, std::atomic<bool>& stop, std::atomic<std::uint64_t>& count)
      : logger_(&logger), stop_(&stop), count_(&count) {}
  void write(const LogSlot& slot) override {
    count_->fetch_add(1, std::memory_order_relaxed);
    if (!stop_->load(std::memory_order_relaxed)) {
      (void)logger_->mq_log(LogLevel::Info, as_mq_payload(slot));
    }
  }

 private:
  Logger* logger_;
  std::atomic<bool>* stop_;
  std::atomic<std::uint64_t>* count_;
};

TEST(Logger, ShutdownReturnsWhileWritersNeverStop) {
  std::atomic<std::uint64_t> written{0};
  std::atomic<bool> stop{false};
  Logger logger(LogConfig{.stripes = 2, .ring_capacity = 64});
  logger.add_sink(std::make_unique<RelayingSink>(logger, stop, written));
  // Two writers that never stop: a thread, and the sink itself.
  std::thread writer([&] {
    for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      (void)logger.mq_log(LogLevel::Info, numbered(0, i));
    }
  });
  for (std::uint64_t i = 0; i < 16; ++i) ASSERT_TRUE(logger.mq_log(LogLevel::Info, numbered(1, i)));
  logger.start_drain();
  while (written.load() < 1000) std::this_thread::yield();

  auto done = std::async(std::launch::async, [&] { logger.shutdown(); });
  const bool returned = done.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  EXPECT_TRUE(returned) << "shutdown() did not return while records kept coming";
  stop.store(true);  // lets an unbounded shutdown finish, so a failure ends the test
  writer.join();
  done.wait();
  EXPECT_FALSE(logger.draining());
}

}  // namespace
