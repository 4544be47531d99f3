#include "vil/cdc/cdc_trigger.hpp"

#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "cdc/change_delivery.hpp"
#include "cdc/delivery_fault.hpp"
#include "core/unix_time.hpp"
#include "replication/stream_reader.hpp"
#include "replication/stream_shared.hpp"
#include "vil/log/dictionary.hpp"

namespace vil::cdc {

namespace {

// Adapts a plain function to the Data lane.
class FunctionSink final : public ChangeSink {
 public:
  explicit FunctionSink(std::function<void(const Change&)> f) : f_(std::move(f)) {}
  void on_change(const Change& change) override { f_(change); }

 private:
  std::function<void(const Change&)> f_;
};

class NullSink final : public ChangeSink {
 public:
  void on_change(const Change&) override {}
};

}  // namespace

std::string_view to_string(ChangeKind kind) noexcept {
  switch (kind) {
    case ChangeKind::Insert:
      return "insert";
    case ChangeKind::Update:
      return "update";
    case ChangeKind::Delete:
      return "delete";
    case ChangeKind::Truncate:
      return "truncate";
    case ChangeKind::Message:
      return "message";
  }
  return "unknown";
}

// One run of start(): the state the two threads share.
struct CdcTrigger::Run {
  Run(const CdcConfig& config, uint64_t start_lsn) : shared(config, start_lsn) {}
  replication::StreamShared shared;
  bool stop_requested = false;  // stop() during this run; under run_mutex_
};

CdcTrigger::CdcTrigger(CdcConfig config) : config_(std::move(config)) {}

CdcTrigger::~CdcTrigger() = default;

void CdcTrigger::set_sink(ChangeSink* sink) {
  sink_ = sink;
  owned_sink_.reset();
}

void CdcTrigger::on_change(std::function<void(const Change&)> callback) {
  owned_sink_ = std::make_unique<FunctionSink>(std::move(callback));
  sink_ = owned_sink_.get();
}

void CdcTrigger::on_notice(std::function<void(const std::string&)> callback) {
  notice_ = std::move(callback);
}

void CdcTrigger::stop_at(pgoutput::Lsn end) {
  end_lsn_ = end;
}

std::expected<void, core::TriggerFault> CdcTrigger::start(core::EventCallback callback) {
  auto result = run(std::move(callback));
  if (!result) return std::unexpected(to_trigger_fault(result.error()));
  return {};
}

std::expected<void, CdcFault> CdcTrigger::run(core::EventCallback callback) {
  if (auto valid = validate(config_); !valid) {
    return std::unexpected(
        CdcFault(ConfigInvalid{log::register_str(valid.error().field)}, valid.error().message));
  }
  NullSink null_sink;
  ChangeSink& sink = sink_ ? *sink_ : null_sink;

  // An eventfd or a thread the system refuses is a fault too, not an
  // exception out of start().
  auto out_of_resources = [&](const std::exception& e) {
    return CdcFault(
        StreamClosed{log::register_str(config_.slot_name)},
        fmt::format("could not start streaming from slot \"{}\": {}", config_.slot_name, e.what()));
  };
  std::unique_ptr<Run> owned;
  try {
    owned = std::make_unique<Run>(config_, 0);
  } catch (const std::exception& e) {
    return std::unexpected(out_of_resources(e));
  }
  Run& run = *owned;
  run.shared.end_lsn = end_lsn_.value;
  // Notices come from the I/O thread (reconnects) and from the delivery
  // thread (the catalog): the owner's callback is never entered twice at once.
  if (notice_) {
    run.shared.on_notice = [notice = notice_, mutex = std::make_shared<std::mutex>()](
                               const std::string& text) {
      std::lock_guard lock(*mutex);
      notice(text);
    };
  }
  {
    std::lock_guard lock(run_mutex_);
    if (run_ != nullptr) {
      return std::unexpected(CdcFault(ConfigInvalid{log::register_str("start")},
                                      "start() is already running on this trigger"));
    }
    // Under the lock that pause() and resume() take: none is lost between
    // reading the flag and publishing the run.
    run.shared.paused.store(paused_.load());
    run.shared.slot_streamed_before = slot_streamed_;
    run.shared.server_wal_end.store(server_wal_end_.load());
    run_ = &run;
  }

  replication::StreamReader reader(run.shared);
  std::thread io;
  try {
    io = std::thread([&] { reader.run(); });  // run() never throws
  } catch (const std::system_error& e) {
    std::lock_guard lock(run_mutex_);
    run_ = nullptr;
    return std::unexpected(out_of_resources(e));
  }

  std::optional<CdcFault> fault;
  {
    ChangeDelivery delivery(
        run.shared, sink, callback,
        DeliveryCounters{sequence_, rows_changed_, last_event_ns_, events_fired_, transactions_});
    fault = delivery.run();  // never throws
  }

  // Whatever ended delivery, the I/O thread sends the final status update
  // with what was flushed, then closes.
  run.shared.stop.store(true);
  run.shared.delivery_done.store(true);
  run.shared.io_wake.notify();
  io.join();
  if (!fault) fault = run.shared.fault();

  bool stop_acknowledged = false;
  {
    std::lock_guard lock(run_mutex_);
    run_ = nullptr;
    if (reader.ever_streamed()) slot_streamed_ = true;
    status_updates_ += run.shared.status_updates_sent.load();
    stream_errors_ += run.shared.stream_errors.load();
    bytes_received_ += run.shared.bytes_received.load();
    confirmed_lsn_.store(run.shared.confirmed_lsn.load());
    server_wal_end_.store(run.shared.server_wal_end.load());
    stop_acknowledged = run.stop_requested && callback;
  }
  // Outside the lock: the callback may call stop(), pause() or cdc_state().
  if (stop_acknowledged) {
    core::TriggerEvent event{};
    event.kind_hash = log::register_str("cdc");
    event.source_hash = log::register_str(config_.slot_name);
    event.sequence = sequence_.fetch_add(1) + 1;
    event.timestamp_ns = core::unix_now_ns();
    event.op = core::TriggerOp::StopAck;
    try {
      callback(event);
    } catch (...) {
      if (!fault) {
        fault = caught_as_delivery_fault(event.sequence, "the event callback on stop_ack failed");
      }
    }
  }
  if (fault) {
    trigger_errors_.fetch_add(1);  // once per fault that ends start()
    return std::unexpected(*fault);
  }
  return {};
}

std::expected<void, core::TriggerFault> CdcTrigger::pause() {
  std::lock_guard lock(run_mutex_);
  paused_.store(true);
  if (run_) {
    run_->shared.paused.store(true);
    run_->shared.io_wake.notify();
    // An idle delivery thread waits for frames: it acknowledges the pause now.
    run_->shared.wake_delivery();
  }
  return {};
}

std::expected<void, core::TriggerFault> CdcTrigger::resume() {
  std::lock_guard lock(run_mutex_);
  paused_.store(false);
  if (run_) {
    run_->shared.paused.store(false);
    run_->shared.wake_delivery();
    run_->shared.io_wake.notify();
  }
  return {};
}

std::expected<void, core::TriggerFault> CdcTrigger::stop() {
  std::lock_guard lock(run_mutex_);
  // With no run, nothing to stop: the next start() runs as usual.
  if (run_) {
    run_->stop_requested = true;
    run_->shared.stop.store(true);
    run_->shared.wake_delivery();
    run_->shared.io_wake.notify();
  }
  return {};
}

CdcTriggerState CdcTrigger::cdc_state() const {
  std::lock_guard lock(run_mutex_);
  uint64_t updates = status_updates_.load();
  uint64_t errors = stream_errors_.load();
  if (run_) {
    updates += run_->shared.status_updates_sent.load();
    errors += run_->shared.stream_errors.load();
  }
  return CdcTriggerState{rows_changed_.load(), updates, errors, last_event_ns_.load()};
}

core::TriggerState CdcTrigger::state() const {
  return core::TriggerState{events_fired_.load(), trigger_errors_.load(), 0, last_event_ns_.load()};
}

bool CdcTrigger::paused() const {
  return paused_.load();
}

pgoutput::Lsn CdcTrigger::confirmed_lsn() const {
  std::lock_guard lock(run_mutex_);
  if (run_) return pgoutput::Lsn{run_->shared.confirmed_lsn.load()};
  return pgoutput::Lsn{confirmed_lsn_.load()};
}

pgoutput::Lsn CdcTrigger::server_wal_end() const {
  std::lock_guard lock(run_mutex_);
  if (run_) return pgoutput::Lsn{run_->shared.server_wal_end.load()};
  return pgoutput::Lsn{server_wal_end_.load()};
}

uint64_t CdcTrigger::bytes_received() const {
  std::lock_guard lock(run_mutex_);
  uint64_t bytes = bytes_received_.load();
  if (run_) bytes += run_->shared.bytes_received.load();
  return bytes;
}

uint64_t CdcTrigger::transactions() const {
  return transactions_.load();
}

std::unique_ptr<core::TriggerSource> create_trigger(const CdcConfig& config) {
  return std::make_unique<CdcTrigger>(config);
}

core::TriggerFault to_trigger_fault(const CdcFault& fault) {
  const uint32_t kind_hash = log::register_str("cdc");
  if (const auto* c = fault.get<ConnectionFailed>();
      c && c->reason_code == static_cast<uint32_t>(ConnectionFailure::AuthFailed)) {
    return core::TriggerFault(core::TriggerFault::AuthFailed{kind_hash}, fault.message());
  }
  if (const auto* c = fault.get<ConfigInvalid>()) {
    return core::TriggerFault(core::TriggerFault::ConfigInvalid{c->field_hash}, fault.message());
  }
  if (const auto* k = fault.get<KeepaliveFailed>()) {
    return core::TriggerFault(core::TriggerFault::IoError{kind_hash, k->os_code}, fault.message());
  }
  return core::TriggerFault(core::TriggerFault::SourceUnavailable{kind_hash, fault.code()},
                            fault.message());
}

}  // namespace vil::cdc
