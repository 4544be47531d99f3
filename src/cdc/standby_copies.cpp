#include "standby_copies.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace vil::cdc {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Read through to_jsonb and current_setting(..., true), so that a server
// before 17 (no synced column, no such setting) answers NULL, not an error.
constexpr const char* kQuery =
    "SELECT pg_is_in_recovery(), current_setting('sync_replication_slots', true), "
    "to_jsonb(s) ->> 'synced', to_jsonb(s) ->> 'temporary' "
    "FROM (SELECT 1) AS one LEFT JOIN pg_replication_slots AS s ON s.slot_name = $1";

}  // namespace

std::optional<StandbySlotCopy> judge_copy(const std::string& standby, const StandbyAnswer& answer) {
  if (!answer.in_recovery) return std::nullopt;
  StandbySlotCopy copy{standby, false, {}};
  if (!answer.synced) {
    copy.why_not = answer.sync_replication_slots == "on"
                       ? "it has no copy of the slot"
                       : "it has no copy of the slot, and sync_replication_slots is off there";
  } else if (answer.synced != "true") {
    copy.why_not = "its slot of that name is its own, not a copy of the primary's";
  } else if (answer.temporary == "true") {
    copy.why_not =
        "its copy is still temporary, until the primary's slot moves past what the standby "
        "reserved for it";
  } else {
    copy.ready = true;
  }
  return copy;
}

std::string standby_copy_notice(std::string_view slot_name,
                                const std::optional<StandbySlotCopy>& before,
                                const StandbySlotCopy& now) {
  if (before && before->ready == now.ready && before->why_not == now.why_not) return {};
  if (now.ready) {
    return fmt::format(
        "slot \"{}\": the standby at {} holds a synchronized copy; a failover there keeps the slot",
        slot_name, now.standby);
  }
  return fmt::format(
      "slot \"{}\": the standby at {} has no ready copy yet ({}): a failover there now would "
      "lose the slot",
      slot_name, now.standby, now.why_not);
}

StandbyCopies::StandbyCopies(const std::string& conn_string, std::string slot_name)
    : slot_name_(std::move(slot_name)) {
  for (NamedHost& named : named_hosts(conn_string)) {
    hosts_.push_back(Host{std::move(named), nullptr, {}, milliseconds(0)});
  }
}

std::optional<StandbyAnswer> StandbyCopies::ask(Host& host, const std::atomic<bool>& stopping) {
  if (!host.conn) {
    if (Clock::now() < host.next_try) return std::nullopt;
    std::vector<const char*> keywords;
    std::vector<const char*> values;
    for (const auto& [key, value] : host.named.options) {
      keywords.push_back(key.c_str());
      values.push_back(value.c_str());
    }
    keywords.push_back("fallback_application_name");
    values.push_back("vil-cdc slot check");
    keywords.push_back(nullptr);
    values.push_back(nullptr);
    host.conn = connect_polled(keywords.data(), values.data(), false, stopping);
    if (!host.conn) {
      host.retry =
          host.retry.count() == 0 ? kCheckFirstRetry : std::min(host.retry * 2, kCheckLongestRetry);
      host.next_try = Clock::now() + host.retry;
      return std::nullopt;
    }
    host.retry = milliseconds(0);
  }
  bool broken = false;
  auto row = query_row(host.conn.get(), kQuery, {slot_name_}, stopping, broken);
  if (broken) host.conn.reset();
  if (!row || row->size() != 4) return std::nullopt;
  return StandbyAnswer{(*row)[0] == "t", (*row)[1], (*row)[2], (*row)[3]};
}

std::vector<StandbySlotCopy> StandbyCopies::check(const std::string& connected,
                                                  const std::atomic<bool>& stopping) {
  std::vector<StandbySlotCopy> copies;
  for (Host& host : hosts_) {
    if (stopping.load()) break;
    // The server the check reached is the primary the stream reads, or the
    // standby it decodes on: not a standby to fail over to.
    if (host.named.address == connected) {
      host.conn.reset();
      continue;
    }
    if (auto answer = ask(host, stopping)) {
      if (auto copy = judge_copy(host.named.address, *answer)) copies.push_back(std::move(*copy));
    }
  }
  return copies;
}

}  // namespace vil::cdc
