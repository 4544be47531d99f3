#pragma once
// With failover slots (CdcConfig::failover), whether a failover keeps the
// slot: each standby the connection string names holds a copy of it, made
// by its slot sync worker, that a promoted standby streams on from. The copy
// is ready once it is synchronized (`synced`) and persisted (not
// `temporary`: a new copy stays temporary until the primary's slot moved
// past what the standby reserved for it). SlotMonitor asks on its thread.

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "monitor_connection.hpp"
#include "standby_hosts.hpp"
#include "vil/cdc/trigger_metrics.hpp"

namespace vil::cdc {

// A standby's answer: pg_is_in_recovery(), its sync_replication_slots
// (NULL before 17), and the slot's synced and temporary (NULL: no slot).
struct StandbyAnswer {
  bool in_recovery = false;
  std::optional<std::string> sync_replication_slots;
  std::optional<std::string> synced;
  std::optional<std::string> temporary;
};

// What the answer says of the copy; nullopt when the server is no standby.
std::optional<StandbySlotCopy> judge_copy(const std::string& standby, const StandbyAnswer& answer);

// The line for a copy that is now `now` and was `before` (nullopt: not
// known); empty when nothing worth saying changed.
std::string standby_copy_notice(std::string_view slot_name,
                                const std::optional<StandbySlotCopy>& before,
                                const StandbySlotCopy& now);

class StandbyCopies {
 public:
  StandbyCopies(const std::string& conn_string, std::string slot_name);

  // The hosts of the connection string other than `connected` (the server
  // the slot check reached) that answer as standbys, each asked on its own
  // connection (kept between calls; one that fails is tried again after
  // 5 s, doubling up to 2 min).
  std::vector<StandbySlotCopy> check(const std::string& connected,
                                     const std::atomic<bool>& stopping);
  // Hosts the connection string names.
  [[nodiscard]] size_t hosts() const { return hosts_.size(); }

 private:
  struct Host {
    NamedHost named;
    PqConnection conn;
    std::chrono::steady_clock::time_point next_try{};
    std::chrono::milliseconds retry{0};
  };
  std::optional<StandbyAnswer> ask(Host& host, const std::atomic<bool>& stopping);

  std::string slot_name_;
  std::vector<Host> hosts_;
};

}  // namespace vil::cdc
