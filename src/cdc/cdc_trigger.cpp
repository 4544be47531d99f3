#include "vil/cdc/cdc_trigger.hpp"

#include <system_error>
#include <thread>

#include <atomic>
#include <mutex>

#include <fmt/format.h>

#include "ack_tracker.hpp"
#include "change_delivery.hpp"
#include "run_control.hpp"
#include "slot_monitor.hpp"
#include "snapshot_state.hpp"
#include "stream_mapping.hpp"
#include "trigger_events.hpp"
#include "vil/cdc/snapshot_request.hpp"
#include "vil/core/unix_time.hpp"
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
    case ChangeKind::Read:
      return "read";
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
  std::unique_ptr<SlotMonitor> slot_monitor;  // when the config asks for slot checks
};

struct CdcTrigger::Impl {
  explicit Impl(CdcConfig c) : config(std::move(c)) {}
  CdcConfig config;
  ChangeSink* sink = nullptr;
  std::function<void(const std::string&)> notice;
  pgoutput::Lsn end_lsn{};
  RunControl control;

  mutable std::mutex run_mutex;
  Run* run = nullptr;  // while start() runs, for the counters
  // A run streamed from the slot, up to server_wal_end: later runs never
  // create it again (a new slot would silently skip what was written in
  // between).
  bool slot_streamed = false;  // under run_mutex

  // Kept across runs: sequence numbers are never reset or reused.
  std::atomic<uint64_t> sequence{0};
  std::atomic<uint64_t> rows_changed{0};
  std::atomic<uint64_t> status_updates{0};
  std::atomic<uint64_t> stream_errors{0};
  std::atomic<uint64_t> last_event_ns{0};
  std::atomic<uint64_t> events_fired{0};
  std::atomic<uint64_t> trigger_errors{0};
  std::atomic<uint64_t> transactions{0};
  SnapshotCounters snapshot;
  ChangeCounters changes;
  SlotMonitor::Reading last_slot_reading;  // under run_mutex: the last run's
  std::unique_ptr<AckTracker> acks;        // made for the first AsyncChangeSink run
  std::atomic<uint64_t> confirmed_lsn{0};
  std::atomic<uint64_t> server_wal_end{0};
  std::atomic<uint64_t> bytes_received{0};
};

CdcTrigger::CdcTrigger(CdcConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

CdcTrigger::~CdcTrigger() = default;

void CdcTrigger::set_sink(ChangeSink* sink) {
  impl_->sink = sink;
}

void CdcTrigger::on_notice(std::function<void(const std::string&)> callback) {
  impl_->notice = std::move(callback);
}

void CdcTrigger::stop_at(pgoutput::Lsn end) {
  impl_->end_lsn = end;
}

std::expected<void, core::TriggerFault> CdcTrigger::start(core::EventCallback callback) {
  auto result = run(std::move(callback));
  if (!result) return std::unexpected(to_trigger_fault(result.error()));
  return {};
}

std::expected<void, CdcFault> CdcTrigger::run(core::EventCallback callback) {
  const CdcConfig& config = impl_->config;
  if (auto valid = validate(config); !valid) {
    return std::unexpected(
        CdcFault(ConfigInvalid{log::register_str(valid.error().field)}, valid.error().message));
  }
  NullSink null_sink;
  ChangeSink& sink = impl_->sink ? *impl_->sink : null_sink;

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
  if (impl_->notice) {
    notice = [notice = impl_->notice,
              mutex = std::make_shared<std::mutex>()](const std::string& text) {
      std::lock_guard lock(*mutex);
      notice(text);
    };
  }
  replication::StreamSettings settings = stream_settings(config);
  // An earlier run's initial snapshot cut short is finished from the slot it
  // left: that the slot exists is expected then (its state file says so;
  // a file that cannot be read fails the run in delivery, with its reason).
  if (config.snapshot == SnapshotMode::Initial && !config.snapshot_state.empty()) {
    auto state = load_snapshot_state(config.snapshot_state, config.slot_name, config.publication);
    settings.resuming_snapshot = state && initial_snapshot_unfinished(*state);
  }
  {
    std::lock_guard lock(impl_->run_mutex);
    settings.slot_streamed_before = impl_->slot_streamed;
    settings.streamed_up_to = impl_->server_wal_end.load();
  }
  std::unique_ptr<Run> owned;
  try {
    owned = std::make_unique<Run>(std::move(settings), notice);
  } catch (const std::exception& e) {
    return std::unexpected(out_of_resources(e));
  }
  Run& run = *owned;
  // A snapshot alone uses no slot.
  if (config.slot_check_interval.count() > 0 && config.snapshot != SnapshotMode::Only) {
    try {
      run.slot_monitor =
          std::make_unique<SlotMonitor>(config.conn_string, config.slot_name,
                                        config.slot_check_interval, notice, config.failover);
    } catch (const std::system_error& e) {
      return std::unexpected(out_of_resources(e));
    }
  }
  if (!impl_->control.attach(run.reader, run.queue)) {
    return std::unexpected(CdcFault(ConfigInvalid{log::register_str("start")},
                                    "start() is already running on this trigger"));
  }
  {
    std::lock_guard lock(impl_->run_mutex);
    impl_->run = &run;
  }
  const auto detach = [&] {
    std::lock_guard lock(impl_->run_mutex);
    impl_->run = nullptr;
    return impl_->control.detach();
  };

  // A snapshot alone needs no I/O thread: the reader is never run.
  const bool streaming = config.snapshot != SnapshotMode::Only;
  std::thread io;
  if (streaming) {
    try {
      io = std::thread([&] { run.reader.run(); });  // run() never throws
    } catch (const std::system_error& e) {
      detach();
      return std::unexpected(out_of_resources(e));
    }
  }

  TriggerEvents events(callback, impl_->sequence, config.slot_name);
  // A sink that acknowledges later gets the trigger's tracker, which outlives
  // the run: a late acknowledgement from a broker's thread finds it there.
  auto* async = dynamic_cast<AsyncChangeSink*>(&sink);
  if (async != nullptr) {
    if (!impl_->acks) {
      impl_->acks = std::make_unique<AckTracker>(config.max_in_flight, config.max_in_flight_bytes);
    }
    impl_->acks->begin_run([&queue = run.queue] { queue.wake_consumer(); });
  }
  std::optional<CdcFault> fault;
  {
    ChangeDelivery delivery(
        config, run.queue, run.reader, impl_->control, events, sink,
        DeliveryCounters{impl_->rows_changed, impl_->last_event_ns, impl_->events_fired,
                         impl_->transactions, impl_->snapshot, impl_->changes},
        notice, async != nullptr ? impl_->acks.get() : nullptr);
    // Neither throws.
    fault = streaming ? delivery.run(impl_->end_lsn.value) : delivery.run_snapshot_only();
  }
  // The queue the wake-ups reach goes with this run.
  if (async != nullptr) impl_->acks->end_run();

  if (streaming) {
    // Whatever ended delivery, the I/O thread sends the final status update
    // with what was confirmed, then closes.
    run.reader.finish();
    io.join();
    if (!fault && run.reader.error()) fault = to_cdc_fault(*run.reader.error(), config);
  }

  const replication::StreamStats stats = run.reader.stats();
  {
    std::lock_guard lock(impl_->run_mutex);
    if (run.reader.ever_streamed()) impl_->slot_streamed = true;
    impl_->status_updates += stats.status_updates_sent;
    impl_->stream_errors += stats.stream_errors;
    impl_->bytes_received += stats.bytes_received;
    impl_->confirmed_lsn.store(stats.confirmed_lsn);
    impl_->server_wal_end.store(stats.server_wal_end);
    if (run.slot_monitor) impl_->last_slot_reading = run.slot_monitor->latest();
  }
  const bool stop_requested = detach();
  // After the I/O thread ended; outside every lock: the callback may call
  // stop(), pause() or cdc_state().
  if (stop_requested) {
    if (auto failed = events.acknowledge(core::TriggerOp::StopAck); failed && !fault) {
      fault = std::move(failed);
    }
  }
  if (fault) {
    impl_->trigger_errors.fetch_add(1);  // once per fault that ends start()
    return std::unexpected(*fault);
  }
  return {};
}

std::expected<pgoutput::Lsn, CdcFault> CdcTrigger::request_snapshot(
    std::span<const std::string> tables) const {
  return cdc::request_snapshot(impl_->config.conn_string, impl_->config.publication, tables);
}

std::expected<void, core::TriggerFault> CdcTrigger::pause() {
  impl_->control.pause();
  return {};
}

std::expected<void, core::TriggerFault> CdcTrigger::resume() {
  impl_->control.resume();
  return {};
}

std::expected<void, core::TriggerFault> CdcTrigger::stop() {
  impl_->control.stop();
  return {};
}

CdcTriggerState CdcTrigger::cdc_state() const {
  std::lock_guard lock(impl_->run_mutex);
  uint64_t updates = impl_->status_updates.load();
  uint64_t errors = impl_->stream_errors.load();
  if (impl_->run) {
    const replication::StreamStats stats = impl_->run->reader.stats();
    updates += stats.status_updates_sent;
    errors += stats.stream_errors;
  }
  return CdcTriggerState{impl_->rows_changed.load(), updates, errors, impl_->last_event_ns.load()};
}

core::TriggerState CdcTrigger::state() const {
  return core::TriggerState{impl_->events_fired.load(), impl_->trigger_errors.load(), 0,
                            impl_->last_event_ns.load()};
}

bool CdcTrigger::paused() const {
  return impl_->control.paused();
}

pgoutput::Lsn CdcTrigger::confirmed_lsn() const {
  std::lock_guard lock(impl_->run_mutex);
  if (impl_->run) return pgoutput::Lsn{impl_->run->reader.stats().confirmed_lsn};
  return pgoutput::Lsn{impl_->confirmed_lsn.load()};
}

pgoutput::Lsn CdcTrigger::server_wal_end() const {
  std::lock_guard lock(impl_->run_mutex);
  if (impl_->run) return pgoutput::Lsn{impl_->run->reader.stats().server_wal_end};
  return pgoutput::Lsn{impl_->server_wal_end.load()};
}

uint64_t CdcTrigger::bytes_received() const {
  std::lock_guard lock(impl_->run_mutex);
  uint64_t bytes = impl_->bytes_received.load();
  if (impl_->run) bytes += impl_->run->reader.stats().bytes_received;
  return bytes;
}

uint64_t CdcTrigger::transactions() const {
  return impl_->transactions.load();
}

TriggerMetrics CdcTrigger::metrics() const {
  TriggerMetrics m;
  for (size_t i = 0; i < m.changes.size(); ++i) {
    m.changes[i] = impl_->changes.by_kind[i].load(std::memory_order_relaxed);
  }
  m.transactions = impl_->transactions.load();
  m.last_commit_unix_ns = impl_->changes.last_commit_unix_ns.load(std::memory_order_relaxed);
  m.streamed.open = impl_->changes.streamed_open.load(std::memory_order_relaxed);
  m.streamed.committed = impl_->changes.streamed_committed.load(std::memory_order_relaxed);
  m.streamed.aborted = impl_->changes.streamed_aborted.load(std::memory_order_relaxed);
  m.streamed.spilled_bytes = impl_->changes.streamed_spilled_bytes.load(std::memory_order_relaxed);
  m.paused = impl_->control.paused();
  m.snapshot = snapshot_progress();
  uint64_t walsender_end = 0;
  {
    std::lock_guard lock(impl_->run_mutex);
    m.received_bytes = impl_->bytes_received.load();
    m.reconnects = impl_->stream_errors.load();
    m.status_updates = impl_->status_updates.load();
    m.confirmed_lsn = pgoutput::Lsn{impl_->confirmed_lsn.load()};
    walsender_end = impl_->server_wal_end.load();
    SlotMonitor::Reading reading = impl_->last_slot_reading;
    if (impl_->run) {
      const replication::StreamStats stats = impl_->run->reader.stats();
      m.received_bytes += stats.bytes_received;
      m.reconnects += stats.stream_errors;
      m.status_updates += stats.status_updates_sent;
      m.confirmed_lsn = pgoutput::Lsn{stats.confirmed_lsn};
      walsender_end = stats.server_wal_end;
      m.connected = stats.streaming;
      if (impl_->run->slot_monitor) reading = impl_->run->slot_monitor->latest();
    }
    m.slot = reading.slot;
    m.failover = impl_->config.failover && impl_->config.slot_check_interval.count() > 0;
    m.failover_standbys = std::move(reading.standbys);
    m.server_wal_lsn =
        pgoutput::Lsn{reading.server_wal_lsn != 0 ? reading.server_wal_lsn : walsender_end};
  }
  if (m.server_wal_lsn.value != 0 && m.confirmed_lsn.value != 0 &&
      m.server_wal_lsn.value > m.confirmed_lsn.value) {
    m.lag_bytes = m.server_wal_lsn.value - m.confirmed_lsn.value;
  }
  // Caught up: every position the walsender sent was confirmed.
  const bool caught_up = m.confirmed_lsn.value >= walsender_end;
  if (!caught_up && m.last_commit_unix_ns > 0) {
    const int64_t behind = static_cast<int64_t>(core::unix_now_ns()) - m.last_commit_unix_ns;
    m.lag_seconds = behind > 0 ? static_cast<double>(behind) / 1e9 : 0;
  }
  if (impl_->acks) {
    const AckTracker::Figures acks = impl_->acks->figures();
    m.sink_in_flight = acks.in_flight;
    m.sink_acknowledged = acks.acknowledged;
    m.sink_failures = acks.failures;
    if (acks.full_since) {
      m.sink_backpressure_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - *acks.full_since)
              .count();
    }
  }
  return m;
}

SnapshotProgress CdcTrigger::snapshot_progress() const {
  const SnapshotCounters& s = impl_->snapshot;
  return SnapshotProgress{s.reading.load(), s.tables.load(), s.tables_done.load(), s.rows.load(),
                          s.rows_estimated.load()};
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
