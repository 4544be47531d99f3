// Faults no retry can cure end start() with the right code and a message in
// words; passwords never appear in them.

#include <functional>
#include <tuple>

#include <gtest/gtest.h>

#include "replication/collecting_sink.hpp"
#include "replication/trigger_test_base.hpp"
#include "vil/log/dictionary.hpp"

namespace vil::cdc::test {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

class TriggerFaults : public TriggerTestBase {};

TEST_F(TriggerFaults, WrongPasswordIsAuthFailed) {
  const std::string role = unique_name("repl");
  cluster().create_role_with_password(role, "right-horse-battery");
  CdcConfig config = make_stream();
  config.conn_string = conninfo(role) + " password=Wr0ngSecret";
  CdcTrigger trigger(config);
  auto result = trigger.run();
  ASSERT_FALSE(result);
  const CdcFault& fault = result.error();
  EXPECT_EQ(fault.code(), 1u);
  ASSERT_NE(fault.get<ConnectionFailed>(), nullptr);
  EXPECT_EQ(fault.get<ConnectionFailed>()->reason_code,
            static_cast<uint32_t>(ConnectionFailure::AuthFailed));
  EXPECT_FALSE(fault.is_retryable());
  EXPECT_TRUE(contains(fault.message(), "password authentication failed")) << fault.message();
  EXPECT_FALSE(contains(fault.message(), "Wr0ngSecret")) << fault.message();
  auto vil_fault = to_trigger_fault(fault);
  EXPECT_EQ(vil_fault.as_error_code(), 5u);
  auto via_interface = trigger.start({});
  ASSERT_FALSE(via_interface);
  EXPECT_EQ(via_interface.error().as_error_code(), 5u);
}

TEST_F(TriggerFaults, MissingSlotIsSlotNotFound) {
  CdcConfig config = make_stream();
  config.slot_name = "no_such_slot";
  CdcTrigger trigger(config);
  auto result = trigger.run();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), 4u);
  EXPECT_EQ(result.error().to_string(), "SlotNotFound(code=4)");
  EXPECT_TRUE(contains(result.error().message(), "\"no_such_slot\" does not exist"))
      << result.error().message();
}

TEST_F(TriggerFaults, MissingPublicationIsPublicationNotFound) {
  CdcConfig config = make_stream();
  config.publication = "no_such_pub";
  CdcTrigger trigger(config);
  auto result = trigger.run();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), 5u);
  EXPECT_TRUE(contains(result.error().message(), "publication \"no_such_pub\" does not exist"))
      << result.error().message();
}

TEST_F(TriggerFaults, SlotOfAnotherPluginIsRefused) {
  CdcConfig config = make_stream();
  config.slot_name = unique_name("td_slot");
  execute("SELECT pg_create_logical_replication_slot('" + config.slot_name + "', 'test_decoding')");
  CdcTrigger trigger(config);
  auto result = trigger.run();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), 2u);
  EXPECT_TRUE(contains(result.error().message(), "plugin 'test_decoding'"))
      << result.error().message();
}

TEST_F(TriggerFaults, SlotInUseByAnotherConsumer) {
  CdcConfig config = make_stream();
  CdcTrigger first(config);
  CollectingSink sink;
  first.set_sink(&sink);
  TriggerThread running(first);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (query_value("SELECT active FROM pg_replication_slots WHERE slot_name = '" +
                     config.slot_name + "'") != "t" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  CdcTrigger second(config);
  auto result = second.run();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), 2u);
  EXPECT_EQ(cdc::unpack_sqlstate(result.error().get<ReplicationStartFailed>()->pg_error_code),
            "55006");
  EXPECT_TRUE(contains(result.error().message(), "in use")) << result.error().message();
  EXPECT_TRUE(running.stop());
}

TEST_F(TriggerFaults, NoServerAtThatAddress) {
  CdcConfig config = make_stream();
  // A port nothing listens on: the cluster's own port plus one is not ours.
  config.conn_string =
      "host=127.0.0.1 port=1 dbname=x user=postgres password=hunter2 "
      "connect_timeout=5";
  CdcTrigger trigger(config);
  auto result = trigger.run();
  ASSERT_FALSE(result);
  ASSERT_NE(result.error().get<ConnectionFailed>(), nullptr);
  EXPECT_EQ(result.error().get<ConnectionFailed>()->reason_code,
            static_cast<uint32_t>(ConnectionFailure::Unreachable));
  EXPECT_TRUE(contains(result.error().message(), "Connection refused")) << result.error().message();
  EXPECT_FALSE(contains(result.error().message(), "hunter2"));
}

TEST_F(TriggerFaults, BadConfigurationIsConfigInvalid) {
  CdcConfig config;
  config.conn_string = conninfo();
  config.slot_name = "Bad Name";
  config.publication = "p";
  CdcTrigger trigger(config);
  auto result = trigger.run();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), 9u);
  EXPECT_TRUE(contains(result.error().message(), "cdc.slot_name")) << result.error().message();
  EXPECT_EQ(to_trigger_fault(result.error()).as_error_code(), 2u);
}

// A fault while paused (here: paused before start) still ends start() at
// once: the delivery thread does not wait for a resume that never comes.
TEST_F(TriggerFaults, AFaultWhilePausedEndsStartPromptly) {
  CdcConfig config = make_stream();
  const std::string role = unique_name("repl");
  cluster().create_role_with_password(role, "right-horse-battery");
  CdcConfig bad_slot = config;
  bad_slot.slot_name = "no_such_slot";
  CdcConfig bad_password = config;
  bad_password.conn_string = conninfo(role) + " password=Wr0ngSecret";
  for (const auto& [what, c, code] :
       {std::tuple{"bad slot", bad_slot, 4u}, std::tuple{"bad password", bad_password, 1u}}) {
    SCOPED_TRACE(what);
    CdcTrigger trigger(c);
    ASSERT_TRUE(trigger.pause());
    TriggerThread thread(trigger);
    const auto began = std::chrono::steady_clock::now();
    auto result = thread.join(10s);
    ASSERT_TRUE(result.has_value()) << "start() did not end while paused";
    EXPECT_LT(std::chrono::steady_clock::now() - began, 5s);
    ASSERT_FALSE(*result);
    EXPECT_EQ(result->error().code(), code) << result->error().message();
    EXPECT_EQ(trigger.state().trigger_errors, 1u);
  }
}

// Timers of zero or less would make the trigger spin or hammer the server.
TEST_F(TriggerFaults, TimersThatAreNotPositiveAreConfigInvalid) {
  CdcConfig base;
  base.conn_string = conninfo();
  base.slot_name = "s";
  base.publication = "p";
  struct Case {
    const char* field;
    std::function<void(CdcConfig&)> set;
  };
  const Case cases[] = {
      {"cdc.status_interval_ms", [](CdcConfig& c) { c.status_interval = 0ms; }},
      {"cdc.status_interval_ms", [](CdcConfig& c) { c.status_interval = -5ms; }},
      {"cdc.reconnect_initial_ms", [](CdcConfig& c) { c.reconnect.initial_backoff = 0ms; }},
      {"cdc.reconnect_initial_ms", [](CdcConfig& c) { c.reconnect.initial_backoff = -1ms; }},
      {"cdc.reconnect_max_ms", [](CdcConfig& c) { c.reconnect.max_backoff = 0ms; }},
      {"cdc.reconnect_max_ms",
       [](CdcConfig& c) {
         c.reconnect.initial_backoff = 500ms;
         c.reconnect.max_backoff = 499ms;
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.field);
    CdcConfig config = base;
    c.set(config);
    auto valid = validate(config);
    ASSERT_FALSE(valid);
    EXPECT_EQ(valid.error().field, c.field);
    CdcTrigger trigger(config);
    auto result = trigger.run();
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), 9u);
    ASSERT_NE(result.error().get<ConfigInvalid>(), nullptr);
    EXPECT_EQ(result.error().get<ConfigInvalid>()->field_hash, log::register_str(c.field));
    EXPECT_TRUE(contains(result.error().message(), c.field)) << result.error().message();
  }
}

class ReplicaWalLevel : public TriggerTestBase {
 public:
  static void SetUpTestSuite() { use_cluster({.settings = {{"wal_level", "replica"}}}); }
};

TEST_F(ReplicaWalLevel, WalLevelNotLogicalIsNamed) {
  CdcConfig config;
  config.conn_string = conninfo();
  config.slot_name = "any_slot";
  config.publication = "any_pub";
  CdcTrigger trigger(config);
  auto result = trigger.run();
  ASSERT_FALSE(result);
  ASSERT_NE(result.error().get<ConnectionFailed>(), nullptr);
  EXPECT_EQ(result.error().get<ConnectionFailed>()->reason_code,
            static_cast<uint32_t>(ConnectionFailure::WalLevel));
  EXPECT_TRUE(contains(result.error().message(), "wal_level = 'replica'"))
      << result.error().message();
}

}  // namespace
}  // namespace vil::cdc::test
