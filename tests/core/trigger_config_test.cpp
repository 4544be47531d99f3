#include <gtest/gtest.h>

#include "vil/core/trigger_config.hpp"
#include "vil/core/trigger_event.hpp"
#include "vil/core/trigger_state.hpp"

namespace {

using vil::core::TriggerKind;

TEST(TriggerKind, Names) {
  EXPECT_EQ(to_string(TriggerKind::Cron), "cron");
  EXPECT_EQ(to_string(TriggerKind::Fs), "fs");
  EXPECT_EQ(to_string(TriggerKind::Cdc), "cdc");
  EXPECT_EQ(to_string(TriggerKind::Webhook), "webhook");
  EXPECT_EQ(to_string(TriggerKind::Email), "email");
  EXPECT_EQ(to_string(TriggerKind::Iot), "iot");
  EXPECT_EQ(to_string(TriggerKind::Evm), "evm");
  EXPECT_EQ(to_string(TriggerKind::Custom), "custom");
  EXPECT_EQ(to_string(static_cast<TriggerKind>(7)), "unknown");
}

TEST(TriggerOp, Names) {
  using vil::core::TriggerOp;
  EXPECT_EQ(to_string(TriggerOp::Fire), "fire");
  EXPECT_EQ(to_string(TriggerOp::PauseAck), "pause_ack");
  EXPECT_EQ(to_string(TriggerOp::ResumeAck), "resume_ack");
  EXPECT_EQ(to_string(TriggerOp::StopAck), "stop_ack");
}

TEST(TriggerConfig, DefaultsAndEquality) {
  const vil::core::TriggerConfig config{.id = 7, .kind = TriggerKind::Cdc, .label = "orders"};
  EXPECT_EQ(config.id, 7u);
  EXPECT_EQ(config.kind, TriggerKind::Cdc);
  EXPECT_TRUE(config.enabled);
  EXPECT_EQ(config.label, "orders");
  EXPECT_EQ(config, (vil::core::TriggerConfig{7, TriggerKind::Cdc, true, "orders"}));
}

TEST(TriggerStructs, ZeroInitialised) {
  const vil::core::TriggerEvent event{};
  EXPECT_EQ(event, (vil::core::TriggerEvent{0, 0, 0, 0, 0, vil::core::TriggerOp::Fire, {0, 0, 0}}));
  EXPECT_EQ(vil::core::TriggerState{}, (vil::core::TriggerState{0, 0, 0, 0}));
}

}  // namespace
