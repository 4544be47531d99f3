#include <cstring>
#include <new>

#include <gtest/gtest.h>

#include "vil/cdc/cdc_fault.hpp"
#include "vil/cdc/row_changed.hpp"

namespace vil::cdc {
namespace {

TEST(CdcFault, CodesKindsAndStrings) {
  struct Case {
    CdcFault fault;
    uint32_t code;
    std::string_view text;
    bool retryable;
  };
  const Case cases[] = {
      {{ConnectionFailed{1, uint32_t(ConnectionFailure::Unreachable)}, "x"},
       1,
       "ConnectionFailed(code=1)",
       true},
      {{ConnectionFailed{1, uint32_t(ConnectionFailure::AuthFailed)}, "x"},
       1,
       "ConnectionFailed(code=1)",
       false},
      {{ReplicationStartFailed{2, pack_sqlstate("55006")}, "x"},
       2,
       "ReplicationStartFailed(code=2)",
       true},
      {{ReplicationStartFailed{2, pack_sqlstate("57P01")}, "x"},
       2,
       "ReplicationStartFailed(code=2)",
       true},
      {{ReplicationStartFailed{2, pack_sqlstate("08006")}, "x"},
       2,
       "ReplicationStartFailed(code=2)",
       true},
      {{ReplicationStartFailed{2, pack_sqlstate("42501")}, "x"},
       2,
       "ReplicationStartFailed(code=2)",
       false},
      {{UnknownMessage{'Z'}, "x"}, 3, "UnknownMessage(code=3)", false},
      {{SlotNotFound{4}, "x"}, 4, "SlotNotFound(code=4)", false},
      {{PublicationNotFound{5}, "x"}, 5, "PublicationNotFound(code=5)", false},
      {{StreamClosed{6}, "x"}, 6, "StreamClosed(code=6)", true},
      {{KeepaliveFailed{104}, "x"}, 7, "KeepaliveFailed(code=7)", true},
      {{MalformedMessage{'I', 9}, "x"}, 8, "MalformedMessage(code=8)", false},
      {{ConfigInvalid{1}, "x"}, 9, "ConfigInvalid(code=9)", false},
      {{DeliveryFailed{3}, "x"}, 10, "DeliveryFailed(code=10)", false},
      {{StreamFailed{6, pack_sqlstate("22021")}, "x"}, 11, "StreamFailed(code=11)", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.fault.code(), c.code);
    EXPECT_EQ(c.fault.to_string(), c.text);
    EXPECT_EQ(c.fault.is_retryable(), c.retryable) << c.text;
  }
}

TEST(CdcFault, RetryableSqlstates) {
  for (const char* state : {"", "08000", "08006", "08P01", "57P01", "57P02", "57P03", "55006"}) {
    EXPECT_TRUE(is_retryable_sqlstate(state)) << state;
  }
  for (const char* state : {"42704", "42501", "55000", "0A000", "22021", "57014", "28P01"}) {
    EXPECT_FALSE(is_retryable_sqlstate(state)) << state;
  }
}

TEST(CdcFault, SqlstatePacking) {
  // MAKE_SQLSTATE('4','2','7','0','4'): six bits a character, first one lowest.
  EXPECT_EQ(pack_sqlstate("42704"), 4u | 2u << 6 | 7u << 12 | 0u << 18 | 4u << 24);
  EXPECT_EQ(unpack_sqlstate(pack_sqlstate("55006")), "55006");
  EXPECT_EQ(unpack_sqlstate(pack_sqlstate("XX000")), "XX000");
}

TEST(CdcLayout, RowChangedAndState) {
  EXPECT_EQ(sizeof(RowChanged), 24u);
  EXPECT_EQ(offsetof(RowChanged, operation), 4u);
  EXPECT_EQ(offsetof(RowChanged, timestamp_ns), 16u);
  EXPECT_EQ(sizeof(CdcTriggerState), 32u);
  EXPECT_EQ(offsetof(CdcTriggerState, last_event_ns), 24u);
}

// Default-initialised (as `RowChanged r;` is) on memory full of garbage:
// every field, padding included, must come out zero.
template <class T>
void expect_default_is_zero() {
  alignas(T) unsigned char buffer[sizeof(T)];
  std::memset(buffer, 0xAB, sizeof buffer);
  T* value = ::new (static_cast<void*>(buffer)) T;
  unsigned char zero[sizeof(T)] = {};
  EXPECT_EQ(std::memcmp(value, zero, sizeof(T)), 0);
  value->~T();
}

TEST(CdcLayout, DefaultInitialisedSummariesAreZero) {
  expect_default_is_zero<RowChanged>();
  expect_default_is_zero<CdcTriggerState>();
}

}  // namespace
}  // namespace vil::cdc
