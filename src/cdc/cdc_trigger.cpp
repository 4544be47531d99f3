#include "vil/cdc/cdc_trigger.hpp"

#include <system_error>
#include <thread>

#include <atomic>
#include <mutex>

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
  bool stop_requested = false;  // stop() during this run; under impl_->run_mutex_
};

struct CdcTrigger::Impl {
  explicit Impl(CdcConfig config) : config_(std::move(config)) {}
  CdcConfig config_;
  ChangeSink* sink_ = nullptr;
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

CdcTrigger::CdcTrigger(CdcConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

CdcTrigger::~CdcTrigger() = default;

void CdcTrigger::set_sink(ChangeSink* sink) {
  impl_->sink_ = sink;
}

void CdcTrigger::on_notice(std::function<void(const std::string&)> callback) {
  impl_->notice_ = std::move(callback);
}

void CdcTrigger::stop_at(pgoutput::Lsn end) {
  impl_->end_lsn_ = end;
}

std::expected<void, core::TriggerFault> CdcTrigger::start(core::EventCallback callback) {
  auto result = run(std::move(callback));
  if (!result) return std::unexpected(to_trigger_fault(result.error()));
  return {};
}

std::expected<void, CdcFault> CdcTrigger::run(core::EventCallback callback) {
  if (auto valid = validate(impl_->config_); !valid) {
    return std::unexpected(
        CdcFault(ConfigInvalid{log::register_str(valid.error().field)}, valid.error().message));
  }
  NullSink null_sink;
  ChangeSink& sink = impl_->sink_ ? *impl_->sink_ : null_sink;

  // An eventfd or a thread the system refuses is a fault too, not an
  // exception out of start().
  auto out_of_resources = [&](const std::exception& e) {
    return CdcFault(StreamClosed{log::register_str(impl_->config_.slot_name)},
                    fmt::format("could not start streaming from slot \"{}\": {}",
                                impl_->config_.slot_name, e.what()));
  };
  std::unique_ptr<Run> owned;
  try {
    owned = std::make_unique<Run>(impl_->config_, 0);
  } catch (const std::exception& e) {
    return std::unexpected(out_of_resources(e));
  }
  Run& run = *owned;
  run.shared.end_lsn = impl_->end_lsn_.value;
  // Notices come from the I/O thread (reconnects) and from the delivery
  // thread (the catalog): the owner's callback is never entered twice at once.
  if (impl_->notice_) {
    run.shared.on_notice = [notice = impl_->notice_,
                            mutex = std::make_shared<std::mutex>()](const std::string& text) {
      std::lock_guard lock(*mutex);
      notice(text);
    };
  }
  {
    std::lock_guard lock(impl_->run_mutex_);
    if (impl_->run_ != nullptr) {
      return std::unexpected(CdcFault(ConfigInvalid{log::register_str("start")},
                                      "start() is already running on this trigger"));
    }
    // Under the lock that pause() and resume() take: none is lost between
    // reading the flag and publishing the run.
    run.shared.paused.store(impl_->paused_.load());
    run.shared.slot_streamed_before = impl_->slot_streamed_;
    run.shared.server_wal_end.store(impl_->server_wal_end_.load());
    impl_->run_ = &run;
  }

  replication::StreamReader reader(run.shared);
  std::thread io;
  try {
    io = std::thread([&] { reader.run(); });  // run() never throws
  } catch (const std::system_error& e) {
    std::lock_guard lock(impl_->run_mutex_);
    impl_->run_ = nullptr;
    return std::unexpected(out_of_resources(e));
  }

  std::optional<CdcFault> fault;
  {
    ChangeDelivery delivery(
        run.shared, sink, callback,
        DeliveryCounters{impl_->sequence_, impl_->rows_changed_, impl_->last_event_ns_,
                         impl_->events_fired_, impl_->transactions_});
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
    std::lock_guard lock(impl_->run_mutex_);
    impl_->run_ = nullptr;
    if (reader.ever_streamed()) impl_->slot_streamed_ = true;
    impl_->status_updates_ += run.shared.status_updates_sent.load();
    impl_->stream_errors_ += run.shared.stream_errors.load();
    impl_->bytes_received_ += run.shared.bytes_received.load();
    impl_->confirmed_lsn_.store(run.shared.confirmed_lsn.load());
    impl_->server_wal_end_.store(run.shared.server_wal_end.load());
    stop_acknowledged = run.stop_requested && callback;
  }
  // Outside the lock: the callback may call stop(), pause() or cdc_state().
  if (stop_acknowledged) {
    core::TriggerEvent event{};
    event.kind_hash = log::register_str("cdc");
    event.source_hash = log::register_str(impl_->config_.slot_name);
    event.sequence = impl_->sequence_.fetch_add(1) + 1;
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
    impl_->trigger_errors_.fetch_add(1);  // once per fault that ends start()
    return std::unexpected(*fault);
  }
  return {};
}

std::expected<void, core::TriggerFault> CdcTrigger::pause() {
  std::lock_guard lock(impl_->run_mutex_);
  impl_->paused_.store(true);
  if (impl_->run_) {
    impl_->run_->shared.paused.store(true);
    impl_->run_->shared.io_wake.notify();
    // An idle delivery thread waits for frames: it acknowledges the pause now.
    impl_->run_->shared.wake_delivery();
  }
  return {};
}

std::expected<void, core::TriggerFault> CdcTrigger::resume() {
  std::lock_guard lock(impl_->run_mutex_);
  impl_->paused_.store(false);
  if (impl_->run_) {
    impl_->run_->shared.paused.store(false);
    impl_->run_->shared.wake_delivery();
    impl_->run_->shared.io_wake.notify();
  }
  return {};
}

std::expected<void, core::TriggerFault> CdcTrigger::stop() {
  std::lock_guard lock(impl_->run_mutex_);
  // With no run, nothing to stop: the next start() runs as usual.
  if (impl_->run_) {
    impl_->run_->stop_requested = true;
    impl_->run_->shared.stop.store(true);
    impl_->run_->shared.wake_delivery();
    impl_->run_->shared.io_wake.notify();
  }
  return {};
}

CdcTriggerState CdcTrigger::cdc_state() const {
  std::lock_guard lock(impl_->run_mutex_);
  uint64_t updates = impl_->status_updates_.load();
  uint64_t errors = impl_->stream_errors_.load();
  if (impl_->run_) {
    updates += impl_->run_->shared.status_updates_sent.load();
    errors += impl_->run_->shared.stream_errors.load();
  }
  return CdcTriggerState{impl_->rows_changed_.load(), updates, errors,
                         impl_->last_event_ns_.load()};
}

core::TriggerState CdcTrigger::state() const {
  return core::TriggerState{impl_->events_fired_.load(), impl_->trigger_errors_.load(), 0,
                            impl_->last_event_ns_.load()};
}

bool CdcTrigger::paused() const {
  return impl_->paused_.load();
}

pgoutput::Lsn CdcTrigger::confirmed_lsn() const {
  std::lock_guard lock(impl_->run_mutex_);
  if (impl_->run_) return pgoutput::Lsn{impl_->run_->shared.confirmed_lsn.load()};
  return pgoutput::Lsn{impl_->confirmed_lsn_.load()};
}

pgoutput::Lsn CdcTrigger::server_wal_end() const {
  std::lock_guard lock(impl_->run_mutex_);
  if (impl_->run_) return pgoutput::Lsn{impl_->run_->shared.server_wal_end.load()};
  return pgoutput::Lsn{impl_->server_wal_end_.load()};
}

uint64_t CdcTrigger::bytes_received() const {
  std::lock_guard lock(impl_->run_mutex_);
  uint64_t bytes = impl_->bytes_received_.load();
  if (impl_->run_) bytes += impl_->run_->shared.bytes_received.load();
  return bytes;
}

uint64_t CdcTrigger::transactions() const {
  return impl_->transactions_.load();
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
