// A TriggerSource is usable through a pointer to the interface: a small fake
// source drives the lifecycle the way a real trigger would.

#include "vil/core/trigger_source.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace {

using vil::core::EventCallback;
using vil::core::TriggerEvent;
using vil::core::TriggerFault;
using vil::core::TriggerOp;
using vil::core::TriggerSource;

class CountingSource final : public TriggerSource {
 public:
  explicit CountingSource(int events, bool fail) : events_(events), fail_(fail) {}
  std::string_view kind() const override { return "custom"; }
  std::expected<void, TriggerFault> start(EventCallback callback) override {
    for (int i = 0; i < events_; ++i) {
      callback(TriggerEvent{.kind_hash = 1,
                            .source_hash = 2,
                            .sequence = static_cast<std::uint64_t>(i),
                            .timestamp_ns = 0,
                            .payload_bytes = 0,
                            .op = TriggerOp::Fire});
    }
    if (fail_) {
      return std::unexpected(
          TriggerFault(TriggerFault::SourceUnavailable{1, 3}, "the source went away"));
    }
    callback(TriggerEvent{.op = TriggerOp::StopAck});
    return {};
  }
  std::expected<void, TriggerFault> pause() override { return {}; }
  std::expected<void, TriggerFault> resume() override { return {}; }
  std::expected<void, TriggerFault> stop() override {
    return std::unexpected(TriggerFault(TriggerFault::ConfigInvalid{9}, "not running"));
  }

 private:
  int events_;
  bool fail_;
};

TEST(TriggerSource, RunsThroughTheInterface) {
  const std::unique_ptr<TriggerSource> source = std::make_unique<CountingSource>(3, false);
  EXPECT_EQ(source->kind(), "custom");
  std::vector<TriggerEvent> seen;
  ASSERT_TRUE(source->start([&](const TriggerEvent& event) { seen.push_back(event); }));
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[2].sequence, 2u);
  EXPECT_EQ(seen[3].op, TriggerOp::StopAck);
  EXPECT_TRUE(source->pause());
  EXPECT_TRUE(source->resume());
  const auto stopped = source->stop();
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().as_error_code(), 2u);
}

TEST(TriggerSource, FatalFaultEndsStart) {
  const std::unique_ptr<TriggerSource> source = std::make_unique<CountingSource>(1, true);
  int count = 0;
  const auto result = source->start([&](const TriggerEvent&) { ++count; });
  ASSERT_FALSE(result);
  EXPECT_EQ(count, 1);
  EXPECT_EQ(result.error().as_error_code(), 1u);
  EXPECT_EQ(result.error().message(), "the source went away");
}

}  // namespace
