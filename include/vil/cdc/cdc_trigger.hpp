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

#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "vil/cdc/cdc_config.hpp"
#include "vil/cdc/cdc_fault.hpp"
#include "vil/cdc/change.hpp"
#include "vil/cdc/row_changed.hpp"
#include "vil/cdc/trigger_metrics.hpp"
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

  // The Data lane, the one way to receive changes (a FunctionSink takes a
  // function); not owned, must outlive start(). Set before start(). Its
  // calls come from the thread running start(), one at a time, in commit
  // order (change.hpp).
  void set_sink(ChangeSink* sink);
  // Retries and reconnects, and a server catalog that could not be asked
  // about column types, in words (never with a password). Called from the
  // trigger's I/O thread or from the thread running start(), never from both
  // at once; what it throws ends the run with DeliveryFailed.
  void on_notice(std::function<void(const std::string&)> callback);
  // Ends start() successfully once every transaction that committed at or
  // before `end` was delivered and confirmed, delivering none after it.
  void stop_at(pgoutput::Lsn end);

  [[nodiscard]] std::string_view kind() const override { return "cdc"; }
  // TriggerSource: the fault as the VIL contract's TriggerFault.
  [[nodiscard]] std::expected<void, core::TriggerFault> start(
      core::EventCallback callback) override;
  // The same, with the full CdcFault.
  [[nodiscard]] std::expected<void, CdcFault> run(core::EventCallback callback = {});

  // Asks every trigger streaming this trigger's publication on its database
  // (this one too, running or not yet) to read `tables` again while it
  // streams: an incremental snapshot (snapshot_request.hpp). Any thread, any
  // time; returns once the request committed, with its LSN. The rows arrive
  // as Read changes on the Data lane of each such trigger.
  [[nodiscard]] std::expected<pgoutput::Lsn, CdcFault> request_snapshot(
      std::span<const std::string> tables) const;

  // Control lane: any thread, any time; never waits for the Data lane.
  [[nodiscard]] std::expected<void, core::TriggerFault> pause() override;
  [[nodiscard]] std::expected<void, core::TriggerFault> resume() override;
  [[nodiscard]] std::expected<void, core::TriggerFault> stop() override;

  [[nodiscard]] CdcTriggerState cdc_state() const;
  [[nodiscard]] core::TriggerState state() const;
  [[nodiscard]] bool paused() const;
  // The flush LSN last sent to the server.
  [[nodiscard]] pgoutput::Lsn confirmed_lsn() const;
  // The server's end of WAL as it last reported it (for lag).
  [[nodiscard]] pgoutput::Lsn server_wal_end() const;
  // Bytes of CopyData received.
  [[nodiscard]] uint64_t bytes_received() const;
  [[nodiscard]] uint64_t transactions() const;
  // Any thread, any time.
  [[nodiscard]] SnapshotProgress snapshot_progress() const;
  // Every figure above and more, at once (trigger_metrics.hpp). Any thread,
  // any time; cheap enough to ask every second.
  [[nodiscard]] TriggerMetrics metrics() const;

 private:
  struct Run;
  // Behind a pointer: the locks, counters and run state are the trigger's
  // own business, and may change without changing this class's layout.
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// TriggerSource through the VIL factory.
std::unique_ptr<core::TriggerSource> create_trigger(const CdcConfig& config);

// The VIL TriggerFault for a CdcFault: AuthFailed for a refused login,
// ConfigInvalid for a bad option, SourceUnavailable{reason_code = CdcFault
// code} otherwise; the message is kept.
core::TriggerFault to_trigger_fault(const CdcFault& fault);

}  // namespace vil::cdc
