#include "vil/core/trigger_fault.hpp"

#include <gtest/gtest.h>

namespace {

using vil::core::TriggerFault;

TEST(TriggerFault, ErrorCodesFollowTheContract) {
  EXPECT_EQ(TriggerFault(TriggerFault::SourceUnavailable{1, 2}).as_error_code(), 1u);
  EXPECT_EQ(TriggerFault(TriggerFault::ConfigInvalid{1}).as_error_code(), 2u);
  EXPECT_EQ(TriggerFault(TriggerFault::RateLimited{1, 2}).as_error_code(), 3u);
  EXPECT_EQ(TriggerFault(TriggerFault::IoError{1, 2}).as_error_code(), 4u);
  EXPECT_EQ(TriggerFault(TriggerFault::AuthFailed{1}).as_error_code(), 5u);
}

TEST(TriggerFault, KindNames) {
  EXPECT_EQ(TriggerFault(TriggerFault::SourceUnavailable{}).kind(), "SourceUnavailable");
  EXPECT_EQ(TriggerFault(TriggerFault::ConfigInvalid{}).kind(), "ConfigInvalid");
  EXPECT_EQ(TriggerFault(TriggerFault::RateLimited{}).kind(), "RateLimited");
  EXPECT_EQ(TriggerFault(TriggerFault::IoError{}).kind(), "IoError");
  EXPECT_EQ(TriggerFault(TriggerFault::AuthFailed{}).kind(), "AuthFailed");
}

TEST(TriggerFault, CarriesFieldsAndWords) {
  const TriggerFault fault(TriggerFault::IoError{.kind_hash = 0x76f33000, .os_code = 104},
                           "connection to localhost:5432 reset by peer");
  const auto* io = fault.get_if<TriggerFault::IoError>();
  ASSERT_NE(io, nullptr);
  EXPECT_EQ(io->kind_hash, 0x76f33000u);
  EXPECT_EQ(io->os_code, 104);
  EXPECT_EQ(fault.get_if<TriggerFault::AuthFailed>(), nullptr);
  EXPECT_EQ(fault.message(), "connection to localhost:5432 reset by peer");
  EXPECT_EQ(fault.to_string(),
            "IoError(code=4, kind_hash=0x76f33000, os_code=104): connection to localhost:5432 "
            "reset by peer");
}

TEST(TriggerFault, ToStringOfEveryKind) {
  EXPECT_EQ(TriggerFault(TriggerFault::SourceUnavailable{0xabc, 7}, "slot busy").to_string(),
            "SourceUnavailable(code=1, kind_hash=0x00000abc, reason_code=7): slot busy");
  EXPECT_EQ(TriggerFault(TriggerFault::ConfigInvalid{0x12345678}, "slot_name is empty").to_string(),
            "ConfigInvalid(code=2, field_hash=0x12345678): slot_name is empty");
  EXPECT_EQ(TriggerFault(TriggerFault::RateLimited{1, 500}, "too fast").to_string(),
            "RateLimited(code=3, kind_hash=0x00000001, events_per_sec=500): too fast");
  EXPECT_EQ(
      TriggerFault(TriggerFault::AuthFailed{2}, "password rejected for user repl").to_string(),
      "AuthFailed(code=5, kind_hash=0x00000002): password rejected for user repl");
}

TEST(TriggerFault, EmptyMessageGetsAGenericSentence) {
  EXPECT_EQ(TriggerFault(TriggerFault::SourceUnavailable{1, 9}).message(),
            "trigger source unavailable (reason code 9)");
  EXPECT_EQ(TriggerFault(TriggerFault::ConfigInvalid{1}).message(),
            "invalid trigger configuration");
  EXPECT_EQ(TriggerFault(TriggerFault::RateLimited{1, 10}).message(),
            "trigger rate limited to 10 events per second");
  EXPECT_EQ(TriggerFault(TriggerFault::IoError{1, 2}).message(),
            "I/O error: No such file or directory");
  EXPECT_EQ(TriggerFault(TriggerFault::AuthFailed{1}).message(),
            "trigger source rejected the credentials");
}

TEST(TriggerFault, Equality) {
  const TriggerFault a(TriggerFault::AuthFailed{1}, "x");
  EXPECT_EQ(a, TriggerFault(TriggerFault::AuthFailed{1}, "x"));
  EXPECT_NE(a, TriggerFault(TriggerFault::AuthFailed{2}, "x"));
  EXPECT_NE(a, TriggerFault(TriggerFault::AuthFailed{1}, "y"));
  EXPECT_NE(a, TriggerFault(TriggerFault::ConfigInvalid{1}, "x"));
}

}  // namespace
