// The process-wide logger behind vil::log::mq_log.

#include <gtest/gtest.h>

#include "log/capturing_sink.hpp"
#include "vil/log/logger.hpp"

namespace {

using namespace vil::log;

TEST(GlobalLogger, InitThenLogThroughTheFreeFunctions) {
  // init() may run after other tests touched the global logger: then only the
  // level and identity apply, which is all this test relies on.
  init(LogConfig{.service_hash = 5, .handler_hash = 6, .node_hash = 7, .level = LogLevel::Info});
  EXPECT_FALSE(init(LogConfig{.service_hash = 5, .handler_hash = 6, .node_hash = 7}));
  // Static: the global logger outlives the test and drains once more at exit.
  static std::vector<LogSlot> slots;
  logger().clear_sinks();
  logger().add_sink(std::make_unique<test::CapturingSink>(slots));
  logger().drain_once();
  slots.clear();

  set_level(LogLevel::Error);
  EXPECT_EQ(level(), LogLevel::Error);
  MqPayload payload;
  payload.offset = 1;
  mq_log(LogLevel::Warn, payload);
  payload.offset = 2;
  mq_log(LogLevel::Error, payload);
  set_level(LogLevel::Info);
  payload.offset = 3;
  mq_log(LogLevel::Info, payload);
  EXPECT_EQ(logger().drain_once(), 2u);
  ASSERT_EQ(slots.size(), 2u);
  EXPECT_EQ(as_mq_payload(slots[0]).offset, 2u);
  EXPECT_EQ(as_mq_payload(slots[1]).offset, 3u);
  EXPECT_EQ(slots[0].header.service_hash, 5u);
  EXPECT_EQ(slots[0].header.node_hash, 7u);
  EXPECT_EQ(dropped(), 0u);

  start_drain();
  payload.offset = 4;
  mq_log(LogLevel::Info, payload);
  shutdown();
  ASSERT_EQ(slots.size(), 3u);
  EXPECT_EQ(as_mq_payload(slots[2]).offset, 4u);
  logger().clear_sinks();
}

}  // namespace
