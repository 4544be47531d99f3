// NatsSink without a server (§4.6): a URL's password or token never shown,
// a server that is not there named in check()'s error, and a change handed
// over before check() failed rather than lost. The sink against a real
// nats-server is tests/cli/cli_nats_sink_test.cpp.

#include "vil/output/nats_sink.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace vil::output {
namespace {

TEST(RedactNatsUrl, APasswordOrATokenIsReplacedAndTheRestKept) {
  EXPECT_EQ(redact_nats_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
  EXPECT_EQ(redact_nats_url("nats://vil:s3cret@host:4222"), "nats://vil:********@host:4222");
  EXPECT_EQ(redact_nats_url("nats://s3cret-token@host:4222"), "nats://********@host:4222");
  EXPECT_EQ(redact_nats_url("nats://a:p@h1:4222,nats://b:q@h2:4222"),
            "nats://a:********@h1:4222,nats://b:********@h2:4222");
  EXPECT_EQ(redact_nats_url("nats://vil:p@ss:word@host:4222"), "nats://vil:********@host:4222");
  EXPECT_EQ(redact_nats_url("host:4222"), "host:4222");
}

struct RecordedAcks final : cdc::DeliveryAcks {
  void acknowledge(uint64_t sequence) override { acknowledged.push_back(sequence); }
  void fail(uint64_t sequence, std::string destination, std::string cause) override {
    failures.push_back({sequence, std::move(destination), std::move(cause)});
  }
  struct Failure {
    uint64_t sequence;
    std::string destination;
    std::string cause;
  };
  std::vector<uint64_t> acknowledged;
  std::vector<Failure> failures;
};

NatsSinkOptions options_for(std::string url) {
  NatsSinkOptions options;
  options.url = std::move(url);
  options.stream = "CDC";
  options.topic_prefix = "p";
  options.connect_timeout = std::chrono::milliseconds(2'000);
  return options;
}

TEST(NatsSink, AServerThatIsNotThereIsNamedWithoutThePassword) {
  NatsSink sink(options_for("nats://vil:s3cret-pass@127.0.0.1:1"), ChangeEncoder());
  const auto checked = sink.check();
  ASSERT_FALSE(checked.has_value());
  const std::string error = checked.has_value() ? std::string() : checked.error();
  EXPECT_NE(error.find("cannot connect to nats://vil:********@127.0.0.1:1"), std::string::npos)
      << error;
  EXPECT_EQ(error.find("s3cret-pass"), std::string::npos) << error;
}

TEST(NatsSink, AChangeBeforeCheckFailsNamingTheCause) {
  NatsSink sink(options_for("nats://127.0.0.1:1"), ChangeEncoder());
  RecordedAcks acks;
  sink.bind(acks);
  const std::array<std::byte, 2> content{std::byte{'h'}, std::byte{'i'}};
  cdc::Change change;
  change.kind = cdc::ChangeKind::Message;
  change.sequence = 7;
  change.prefix = "p";
  change.content = content;
  sink.on_change(change);
  sink.drain();
  EXPECT_TRUE(acks.acknowledged.empty());
  ASSERT_EQ(acks.failures.size(), 1u);
  const RecordedAcks::Failure* failure = acks.failures.empty() ? nullptr : &acks.failures.front();
  EXPECT_EQ(failure != nullptr ? failure->sequence : 0, 7u);
  EXPECT_EQ(failure != nullptr ? failure->destination : "", "nats://127.0.0.1:1");
  EXPECT_NE(failure != nullptr ? failure->cause.find("check()") : std::string::npos,
            std::string::npos);
}

}  // namespace
}  // namespace vil::output
