#include "vil/cdc/cdc_trigger.hpp"

#include <system_error>
#include <thread>

#include <atomic>
#include <mutex>

#include <fmt/format.h>

#include "change_delivery.hpp"
#include "run_control.hpp"
#include "stream_mapping.hpp"
#include "trigger_events.hpp"
#include "vil/log/dictionary.hpp"
#include "vil/replication/stream_reader.hpp"

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

// Frames waiting for delivery, at most: enough to keep the owner busy while
// the socket refills, small enough that memory stays flat.
constexpr size_t kQueueBytes = 8u << 20;

// One run of start(): the I/O thread's reader and the queue it fills.
struct CdcTrigger::Run {
  Run(replication::StreamSettings settings, replication::StreamReader::NoticeCallback notice)
      : reader(std::move(settings), queue, std::move(notice)) {}
  replication::FrameQueue queue{kQueueBytes};  // first: the reader fills it
  replication::StreamReader reader;
};

struct CdcTrigger::Impl {
  explicit Impl(CdcConfig config) : config_(std::move(config)) {}
  CdcConfig config_;
  ChangeSink* sink_ = nullptr;
  std::function<void(const std::string&)> notice_;
  pgoutput::Lsn end_lsn_{};
  RunControl control_;

  mutable std::mutex run_mutex_;
  Run* run_ = nullptr;  // while start() runs, for the counters
  // A run streamed from the slot, up to server_wal_end_: later runs never
  // create it again (a new slot would silently skip what was written in
  // between).
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
  const CdcConfig& config = impl_->config_;
  if (auto valid = validate(config); !valid) {
    return std::unexpected(
        CdcFault(ConfigInvalid{log::register_str(valid.error().field)}, valid.error().message));
  }
  NullSink null_sink;
  ChangeSink& sink = impl_->sink_ ? *impl_->sink_ : null_sink;

  // An eventfd or a thread the system refuses is a fault too, not an
  // exception out of start().
  auto out_of_resources = [&](const std::exception& e) {
    return CdcFault(
        StreamClosed{log::register_str(config.slot_name)},
        fmt::format("could not start streaming from slot \"{}\": {}", config.slot_name, e.what()));
  };
  // Notices come from the I/O thread (reconnects) and from the delivery
  // thread (the catalog): the owner's callback is never entered twice at once.
  replication::StreamReader::NoticeCallback notice;
  if (impl_->notice_) {
    notice = [notice = impl_->notice_,
              mutex = std::make_shared<std::mutex>()](const std::string& text) {
      std::lock_guard lock(*mutex);
      notice(text);
    };
  }
  replication::StreamSettings settings = stream_settings(config);
  {
    std::lock_guard lock(impl_->run_mutex_);
    settings.slot_streamed_before = impl_->slot_streamed_;
    settings.streamed_up_to = impl_->server_wal_end_.load();
  }
  std::unique_ptr<Run> owned;
  try {
    owned = std::make_unique<Run>(std::move(settings), notice);
  } catch (const std::exception& e) {
    return std::unexpected(out_of_resources(e));
  }
  Run& run = *owned;
  if (!impl_->control_.attach(run.reader, run.queue)) {
    return std::unexpected(CdcFault(ConfigInvalid{log::register_str("start")},
                                    "start() is already running on this trigger"));
  }
  {
    std::lock_guard lock(impl_->run_mutex_);
    impl_->run_ = &run;
  }
  const auto detach = [&] {
    std::lock_guard lock(impl_->run_mutex_);
    impl_->run_ = nullptr;
    return impl_->control_.detach();
  };

  std::thread io;
  try {
    io = std::thread([&] { run.reader.run(); });  // run() never throws
  } catch (const std::system_error& e) {
    detach();
    return std::unexpected(out_of_resources(e));
  }

  TriggerEvents events(callback, impl_->sequence_, config.slot_name);
  std::optional<CdcFault> fault;
  {
    ChangeDelivery delivery(config, run.queue, run.reader, impl_->control_, events, sink,
                            DeliveryCounters{impl_->rows_changed_, impl_->last_event_ns_,
                                             impl_->events_fired_, impl_->transactions_},
                            notice);
    fault = delivery.run(impl_->end_lsn_.value);  // never throws
  }

  // Whatever ended delivery, the I/O thread sends the final status update
  // with what was confirmed, then closes.
  run.reader.finish();
  io.join();
  if (!fault && run.reader.error()) fault = to_cdc_fault(*run.reader.error(), config);

  const replication::StreamStats stats = run.reader.stats();
  bool stop_requested = false;
  {
    std::lock_guard lock(impl_->run_mutex_);
    if (run.reader.ever_streamed()) impl_->slot_streamed_ = true;
    impl_->status_updates_ += stats.status_updates_sent;
    impl_->stream_errors_ += stats.stream_errors;
    impl_->bytes_received_ += stats.bytes_received;
    impl_->confirmed_lsn_.store(stats.confirmed_lsn);
    impl_->server_wal_end_.store(stats.server_wal_end);
  }
  stop_requested = detach();
  // After the I/O thread ended; outside every lock: the callback may call
  // stop(), pause() or cdc_state().
  if (stop_requested) {
    if (auto failed = events.acknowledge(core::TriggerOp::StopAck); failed && !fault) {
      fault = std::move(failed);
    }
  }
  if (fault) {
    impl_->trigger_errors_.fetch_add(1);  // once per fault that ends start()
    return std::unexpected(*fault);
  }
  return {};
}

std::expected<void, core::TriggerFault> CdcTrigger::pause() {
  impl_->control_.pause();
  return {};
}

std::expected<void, core::TriggerFault> CdcTrigger::resume() {
  impl_->control_.resume();
  return {};
}

std::expected<void, core::TriggerFault> CdcTrigger::stop() {
  impl_->control_.stop();
  return {};
}

CdcTriggerState CdcTrigger::cdc_state() const {
  std::lock_guard lock(impl_->run_mutex_);
  uint64_t updates = impl_->status_updates_.load();
  uint64_t errors = impl_->stream_errors_.load();
  if (impl_->run_) {
    const replication::StreamStats stats = impl_->run_->reader.stats();
    updates += stats.status_updates_sent;
    errors += stats.stream_errors;
  }
  return CdcTriggerState{impl_->rows_changed_.load(), updates, errors,
                         impl_->last_event_ns_.load()};
}

core::TriggerState CdcTrigger::state() const {
  return core::TriggerState{impl_->events_fired_.load(), impl_->trigger_errors_.load(), 0,
                            impl_->last_event_ns_.load()};
}

bool CdcTrigger::paused() const {
  return impl_->control_.paused();
}

pgoutput::Lsn CdcTrigger::confirmed_lsn() const {
  std::lock_guard lock(impl_->run_mutex_);
  if (impl_->run_) return pgoutput::Lsn{impl_->run_->reader.stats().confirmed_lsn};
  return pgoutput::Lsn{impl_->confirmed_lsn_.load()};
}

pgoutput::Lsn CdcTrigger::server_wal_end() const {
  std::lock_guard lock(impl_->run_mutex_);
  if (impl_->run_) return pgoutput::Lsn{impl_->run_->reader.stats().server_wal_end};
  return pgoutput::Lsn{impl_->server_wal_end_.load()};
}

uint64_t CdcTrigger::bytes_received() const {
  std::lock_guard lock(impl_->run_mutex_);
  uint64_t bytes = impl_->bytes_received_.load();
  if (impl_->run_) bytes += impl_->run_->reader.stats().bytes_received;
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
