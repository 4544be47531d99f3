// What SlotMonitor says when the slot's wal_status moves: the words an
// operator reads before the slot is invalidated, and when it was.

#include "cdc/slot_monitor.hpp"

#include <gtest/gtest.h>

namespace vil::cdc {
namespace {

SlotStatus status(std::string wal_status, std::optional<int64_t> safe = std::nullopt,
                  std::string reason = {}) {
  return SlotStatus{true, std::move(wal_status), safe, std::move(reason)};
}

TEST(SlotStatusNotice, SaysWhenTheSlotTurnsUnreservedAndWhenItIsBack) {
  EXPECT_EQ(slot_status_notice("s", "reserved", status("unreserved", 1048576)),
            "slot \"s\": wal_status is unreserved: it is more than max_slot_wal_keep_size "
            "behind, and the server will invalidate it at a checkpoint unless it catches up "
            "(safe_wal_size 1048576 bytes)");
  EXPECT_EQ(slot_status_notice("s", "extended", status("unreserved")),
            "slot \"s\": wal_status is unreserved: it is more than max_slot_wal_keep_size "
            "behind, and the server will invalidate it at a checkpoint unless it catches up");
  EXPECT_EQ(slot_status_notice("s", "unreserved", status("reserved")),
            "slot \"s\": wal_status is reserved again");
}

TEST(SlotStatusNotice, SaysWhenTheSlotIsLostWithTheServersReason) {
  EXPECT_EQ(slot_status_notice("s", "unreserved", status("lost", std::nullopt, "wal_removed")),
            "slot \"s\": wal_status is lost (wal_removed): the server removed WAL it needed, so "
            "it can no longer be used");
  EXPECT_EQ(slot_status_notice("s", "", status("lost")),
            "slot \"s\": wal_status is lost: the server removed WAL it needed, so it can no "
            "longer be used");
}

TEST(SlotStatusNotice, IsQuietWhenNothingWorthALineChanged) {
  EXPECT_EQ(slot_status_notice("s", "", status("reserved")), "");
  EXPECT_EQ(slot_status_notice("s", "reserved", status("extended")), "");
  EXPECT_EQ(slot_status_notice("s", "unreserved", status("unreserved")), "");
  EXPECT_EQ(slot_status_notice("s", "lost", status("lost")), "");
}

}  // namespace
}  // namespace vil::cdc
