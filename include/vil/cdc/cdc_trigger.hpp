#pragma once
// CdcTrigger: the VIL TriggerSource for PostgreSQL logical replication.
//
//   vil::cdc::CdcTrigger trigger(config);
//   trigger.set_sink(&my_sink);              // the Data lane
//   auto done = trigger.start([](const vil::core::TriggerEvent& e) { ... });  // blocks
//   // from another thread: trigger.pause(); trigger.resume(); trigger.stop();
//
// start() runs on the caller's thread, which also runs the callbacks; a second
// thread owned by the trigger holds the connection, so a slow callback never
// blocks keepalives or the control lane. Changes arrive in commit order, each
// transaction whole; the slot's confirmed LSN moves past a transaction only
// after its callbacks returned and the sink flushed (docs/DESIGN.md §3).

#include <atomic>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "vil/cdc/cdc_config.hpp"
#include "vil/cdc/cdc_fault.hpp"
#include "vil/cdc/change.hpp"
#include "vil/cdc/row_changed.hpp"
#include "vil/core/trigger_source.hpp"
#include "vil/core/trigger_state.hpp"
#include "vil/pgoutput/lsn.hpp"

namespace vil::cdc {

class CdcTrigger final : public core::TriggerSource {
 public:
  explicit CdcTrigger(CdcConfig config);
  ~CdcTrigger() override;
  CdcTrigger(const CdcTrigger&) = delete;
  CdcTrigger& operator=(const CdcTrigger&) = delete;

  // The Data lane; not owned, must outlive start(). Set before start().
  void set_sink(ChangeSink* sink);
  // Convenience: a function per change instead of a sink.
  void on_change(std::function<void(const Change&)> callback);
  // Retries and reconnects, and a server catalog that could not be asked
  // about column types, in words (never with a password). Called from the
  // trigger's I/O thread or from the thread running start(), never from both
  // at once; what it throws ends the run with DeliveryFailed.
  void on_notice(std::function<void(const std::string&)> callback);
  // Ends start() successfully once every transaction that committed at or
  // before `end` was delivered and confirmed, delivering none after it.
  void stop_at(pgoutput::Lsn end);

  std::string_view kind() const override { return "cdc"; }
  // TriggerSource: the fault as the VIL contract's TriggerFault.
  std::expected<void, core::TriggerFault> start(core::EventCallback callback) override;
  // The same, with the full CdcFault.
  std::expected<void, CdcFault> run(core::EventCallback callback = {});

  // Control lane: any thread, any time; never waits for the Data lane.
  std::expected<void, core::TriggerFault> pause() override;
  std::expected<void, core::TriggerFault> resume() override;
  std::expected<void, core::TriggerFault> stop() override;

  CdcTriggerState cdc_state() const;
  core::TriggerState state() const;
  bool paused() const;
  // The flush LSN last sent to the server.
  pgoutput::Lsn confirmed_lsn() const;
  // The server's end of WAL as it last reported it (for lag).
  pgoutput::Lsn server_wal_end() const;
  // Bytes of CopyData received.
  uint64_t bytes_received() const;
  uint64_t transactions() const;

 private:
  struct Run;
  CdcConfig config_;
  ChangeSink* sink_ = nullptr;
  std::unique_ptr<ChangeSink> owned_sink_;
  std::function<void(const std::string&)> notice_;
  pgoutput::Lsn end_lsn_{};

  std::atomic<bool> paused_{false};  // written under run_mutex_
  mutable std::mutex run_mutex_;
  Run* run_ = nullptr;  // while start() runs
  // A run streamed from the slot: later runs never create it again (a new
  // slot would silently skip what was written in between).
  bool slot_streamed_ = false;  // under run_mutex_

  // Kept across runs: sequence numbers are never reset or reused.
  std::atomic<uint64_t> sequence_{0};
  std::atomic<uint64_t> rows_changed_{0};
  std::atomic<uint64_t> status_updates_{0};
  std::atomic<uint64_t> stream_errors_{0};
  std::atomic<uint64_t> last_event_ns_{0};
  std::atomic<uint64_t> events_fired_{0};
  std::atomic<uint64_t> trigger_errors_{0};
  std::atomic<uint64_t> transactions_{0};
  std::atomic<uint64_t> confirmed_lsn_{0};
  std::atomic<uint64_t> server_wal_end_{0};
  std::atomic<uint64_t> bytes_received_{0};
};

// TriggerSource through the VIL factory.
std::unique_ptr<core::TriggerSource> create_trigger(const CdcConfig& config);

// The VIL TriggerFault for a CdcFault: AuthFailed for a refused login,
// ConfigInvalid for a bad option, SourceUnavailable{reason_code = CdcFault
// code} otherwise; the message is kept.
core::TriggerFault to_trigger_fault(const CdcFault& fault);

}  // namespace vil::cdc
