#pragma once
// Shared set-up for trigger tests: a publication and a pgoutput slot in the
// test's own database, and a config with short timers so tests run quickly.

#include <chrono>
#include <string>
#include <thread>

#include "support/pg_fixture.hpp"
#include "vil/cdc/cdc_config.hpp"

namespace vil::cdc::test {

class TriggerTestBase : public vil::testing::PgTest {
 protected:
  // Creates `publication` (FOR ALL TABLES unless `tables` is given) and a
  // pgoutput slot; returns a config for them.
  CdcConfig make_stream(std::string_view tables = {}) {
    CdcConfig config;
    config.conn_string = conninfo();
    config.slot_name = unique_name("slot");
    config.publication = unique_name("pub");
    config.status_interval = std::chrono::milliseconds(200);
    config.reconnect.initial_backoff = std::chrono::milliseconds(100);
    config.reconnect.max_backoff = std::chrono::milliseconds(1000);
    execute(
        "CREATE PUBLICATION " + config.publication +
        (tables.empty() ? std::string(" FOR ALL TABLES") : " FOR TABLE " + std::string(tables)));
    execute("SELECT pg_create_logical_replication_slot('" + config.slot_name + "', 'pgoutput')");
    return config;
  }

  // The walsender streaming from `slot`, 0 when none.
  int walsender_pid(const std::string& slot) {
    auto rows =
        query("SELECT active_pid FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
    if (rows.empty() || !rows[0][0]) return 0;
    return std::stoi(*rows[0][0]);
  }
  // Waits until a walsender streams from `slot`; its pid, 0 at the deadline.
  int wait_for_walsender(const std::string& slot,
                         std::chrono::seconds deadline = std::chrono::seconds(30)) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      if (int pid = walsender_pid(slot); pid != 0) return pid;
      if (std::chrono::steady_clock::now() >= until) return 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // What an administrator does: ends the walsender of `slot`.
  void terminate_walsender(int pid) {
    execute("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
  }

  // id -> v of a table (id int, v text), as SELECT sees it now.
  std::map<int, std::string> id_value_content(const std::string& table) {
    std::map<int, std::string> out;
    for (const auto& row : query("SELECT id, v FROM " + table)) out[std::stoi(*row[0])] = *row[1];
    return out;
  }

  uint64_t current_wal_lsn() { return lsn_value(query_value("SELECT pg_current_wal_lsn()")); }
  uint64_t confirmed_flush_lsn(const std::string& slot) {
    return lsn_value(
        query_value("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE "
                    "slot_name = '" +
                    slot + "'"));
  }
  static uint64_t lsn_value(const std::string& text) {
    auto slash = text.find('/');
    return std::stoull(text.substr(0, slash), nullptr, 16) << 32 |
           std::stoull(text.substr(slash + 1), nullptr, 16);
  }
};

}  // namespace vil::cdc::test
