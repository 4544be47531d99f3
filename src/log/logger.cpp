#include "vil/log/logger.hpp"

#include <unistd.h>

#include <atomic>
#include <bit>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "vil/core/unix_time.hpp"
#include "slot_ring.hpp"

namespace vil::log {
namespace {

// Writers are told apart by an ordinal handed out on their first record; it
// picks the stripe and makes event ids unique without a shared counter.
std::atomic<std::uint64_t> next_thread_ordinal{0};

struct WriterTag {
  std::uint64_t ordinal = next_thread_ordinal.fetch_add(1, std::memory_order_relaxed);
  std::uint64_t records = 0;
};

WriterTag& this_writer() noexcept {
  thread_local WriterTag tag;
  return tag;
}

constexpr unsigned kRecordBits = 40;

// Drain passes of shutdown() at most (see there).
constexpr int kShutdownPasses = 4;

std::uint64_t process_nonce() {
  std::uint64_t nonce = core::unix_now_ns() ^ (static_cast<std::uint64_t>(::getpid()) << 32);
  try {
    std::random_device device;
    nonce ^= (static_cast<std::uint64_t>(device()) << 32) | device();
  } catch (...) {
    // No entropy source: time and pid still separate runs.
  }
  return nonce;
}

struct alignas(64) DropCounter {
  std::atomic<std::uint64_t> value{0};
};

}  // namespace

struct Logger::Impl {
  explicit Impl(const LogConfig& config)
      : stripe_count(config.stripes == 0 ? 1 : config.stripes),
        idle_sleep(config.drain_idle_sleep),
        process_id(static_cast<std::uint64_t>(::getpid())),
        nonce(process_nonce()),
        drops(stripe_count) {
    const std::size_t capacity = std::bit_ceil(config.ring_capacity < 2 ? 2 : config.ring_capacity);
    rings.reserve(stripe_count);
    for (std::size_t i = 0; i < stripe_count; ++i) {
      rings.push_back(std::make_unique<detail::SlotRing>(capacity));
    }
    level.store(static_cast<std::uint8_t>(config.level), std::memory_order_relaxed);
    service_hash.store(config.service_hash, std::memory_order_relaxed);
    handler_hash.store(config.handler_hash, std::memory_order_relaxed);
    node_hash.store(config.node_hash, std::memory_order_relaxed);
  }

  std::size_t stripe() const noexcept { return this_writer().ordinal % stripe_count; }

  const std::size_t stripe_count;
  const std::chrono::microseconds idle_sleep;
  const std::uint64_t process_id;
  const std::uint64_t nonce;
  std::vector<std::unique_ptr<detail::SlotRing>> rings;
  std::vector<DropCounter> drops;
  std::atomic<std::uint8_t> level{0};
  std::atomic<std::uint32_t> service_hash{0};
  std::atomic<std::uint32_t> handler_hash{0};
  std::atomic<std::uint32_t> node_hash{0};

  std::mutex drain_mutex;  // one consumer at a time; guards sinks
  std::vector<std::unique_ptr<Sink>> sinks;
  std::atomic<std::uint64_t> sink_failures{0};

  std::mutex thread_mutex;  // start_drain / shutdown
  std::thread drain_thread;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> running{false};
};

Logger::Logger(const LogConfig& config) : impl_(std::make_unique<Impl>(config)) {}

Logger::~Logger() {
  shutdown();
}

void Logger::set_level(LogLevel level) noexcept {
  impl_->level.store(static_cast<std::uint8_t>(level), std::memory_order_relaxed);
}

LogLevel Logger::level() const noexcept {
  return static_cast<LogLevel>(impl_->level.load(std::memory_order_relaxed));
}

void Logger::set_identity(std::uint32_t service_hash, std::uint32_t handler_hash,
                          std::uint32_t node_hash) noexcept {
  impl_->service_hash.store(service_hash, std::memory_order_relaxed);
  impl_->handler_hash.store(handler_hash, std::memory_order_relaxed);
  impl_->node_hash.store(node_hash, std::memory_order_relaxed);
}

bool Logger::mq_log(LogLevel level, const MqPayload& payload) noexcept {
  if (!enabled(level)) return false;
  return mq_log(level, payload, core::unix_now_ns());
}

bool Logger::mq_log(LogLevel level, const MqPayload& payload, std::uint64_t timestamp_ns) noexcept {
  if (!enabled(level)) return false;
  WriterTag& writer = this_writer();
  LogSlot slot;
  VilLogHeader& header = slot.header;
  header.event_id.hi = impl_->nonce;
  header.event_id.lo = (writer.ordinal << kRecordBits) |
                       (writer.records++ & ((std::uint64_t{1} << kRecordBits) - 1));
  header.process_id = impl_->process_id;
  header.timestamp_ns = timestamp_ns;
  header.level = level;
  header.category = LogCategory::Mq;
  header.version = kLogVersion;
  header.service_hash = impl_->service_hash.load(std::memory_order_relaxed);
  header.handler_hash = impl_->handler_hash.load(std::memory_order_relaxed);
  header.node_hash = impl_->node_hash.load(std::memory_order_relaxed);
  slot.payload = to_payload_bytes(payload);
  return push(slot);
}

bool Logger::push(const LogSlot& slot) noexcept {
  const std::size_t stripe = impl_->stripe();
  if (impl_->rings[stripe]->try_push(slot)) return true;
  impl_->drops[stripe].value.fetch_add(1, std::memory_order_relaxed);
  return false;
}

std::uint64_t Logger::dropped() const noexcept {
  std::uint64_t total = 0;
  for (const DropCounter& counter : impl_->drops) {
    total += counter.value.load(std::memory_order_relaxed);
  }
  return total;
}

std::size_t Logger::stripes() const noexcept {
  return impl_->stripe_count;
}

std::size_t Logger::ring_capacity() const noexcept {
  return impl_->rings.front()->capacity();
}

std::size_t Logger::stripe_of_this_thread() const noexcept {
  return impl_->stripe();
}

void Logger::add_sink(std::unique_ptr<Sink> sink) {
  std::lock_guard lock(impl_->drain_mutex);
  impl_->sinks.push_back(std::move(sink));
}

void Logger::clear_sinks() {
  std::lock_guard lock(impl_->drain_mutex);
  impl_->sinks.clear();
}

std::size_t Logger::drain_once() {
  std::lock_guard lock(impl_->drain_mutex);
  std::size_t count = 0;
  LogSlot slot;
  for (const auto& ring : impl_->rings) {
    for (std::size_t budget = ring->capacity(); budget > 0 && ring->try_pop(slot); --budget) {
      ++count;
      for (const auto& sink : impl_->sinks) {
        try {
          sink->write(slot);
        } catch (...) {
          impl_->sink_failures.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
  }
  if (count > 0) {
    for (const auto& sink : impl_->sinks) {
      try {
        sink->flush();
      } catch (...) {
        impl_->sink_failures.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  return count;
}

void Logger::start_drain() {
  std::lock_guard lock(impl_->thread_mutex);
  if (impl_->drain_thread.joinable()) return;
  impl_->stop_requested.store(false, std::memory_order_relaxed);
  impl_->drain_thread = std::thread([this] {
    while (!impl_->stop_requested.load(std::memory_order_acquire)) {
      if (drain_once() == 0) std::this_thread::sleep_for(impl_->idle_sleep);
    }
  });
  impl_->running.store(true, std::memory_order_release);
}

bool Logger::draining() const noexcept {
  return impl_->running.load(std::memory_order_acquire);
}

void Logger::shutdown() {
  std::lock_guard lock(impl_->thread_mutex);
  if (impl_->drain_thread.joinable()) {
    impl_->stop_requested.store(true, std::memory_order_release);
    impl_->drain_thread.join();
    impl_->running.store(false, std::memory_order_release);
  }
  // What was queued when shutdown began: a ring is FIFO and one pass pops up
  // to its capacity, so the first pass takes all of it. More passes only pick
  // up records that writers were still copying in; a writer that never stops
  // must not keep shutdown (or the exit handler) from returning.
  for (int pass = 0; pass < kShutdownPasses && drain_once() > 0; ++pass) {
  }
  std::lock_guard drain_lock(impl_->drain_mutex);
  for (const auto& sink : impl_->sinks) {
    try {
      sink->flush();
    } catch (...) {
      impl_->sink_failures.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

std::uint64_t Logger::sink_failures() const noexcept {
  return impl_->sink_failures.load(std::memory_order_relaxed);
}

// ---- the process-wide logger ----

namespace {

std::mutex global_mutex;
std::atomic<Logger*> global_logger{nullptr};
// Records of the free functions lost because the logger could not be made.
std::atomic<std::uint64_t> creation_drops{0};

// Never destroyed: threads may still log while the process exits.
Logger& create_once(const LogConfig& config, bool& created) {
  std::lock_guard lock(global_mutex);
  Logger* existing = global_logger.load(std::memory_order_acquire);
  created = existing == nullptr;
  if (created) {
    existing = new Logger(config);
    global_logger.store(existing, std::memory_order_release);
  }
  return *existing;
}

// For the noexcept free functions: the logger, made with the default
// configuration on first use, or nullptr when that failed (the rings did not
// fit in memory, the mutex could not be taken). A later call tries again.
Logger* logger_or_null() noexcept {
  if (Logger* existing = global_logger.load(std::memory_order_acquire)) return existing;
  try {
    bool created = false;
    return &create_once(LogConfig{}, created);
  } catch (...) {
    return nullptr;
  }
}

}  // namespace

bool init(const LogConfig& config) {
  bool created = false;
  Logger& global = create_once(config, created);
  if (!created) {
    global.set_level(config.level);
    global.set_identity(config.service_hash, config.handler_hash, config.node_hash);
  }
  return created;
}

Logger& logger() {
  if (Logger* existing = global_logger.load(std::memory_order_acquire)) return *existing;
  bool created = false;
  return create_once(LogConfig{}, created);
}

void set_level(LogLevel level) noexcept {
  if (Logger* global = logger_or_null()) global->set_level(level);
}

LogLevel level() noexcept {
  if (Logger* global = logger_or_null()) return global->level();
  return LogConfig{}.level;
}

void mq_log(LogLevel level, const MqPayload& payload) noexcept {
  if (Logger* global = logger_or_null()) {
    global->mq_log(level, payload);
  } else {
    creation_drops.fetch_add(1, std::memory_order_relaxed);
  }
}

void mq_log(LogLevel level, const MqPayload& payload, std::uint64_t timestamp_ns) noexcept {
  if (Logger* global = logger_or_null()) {
    global->mq_log(level, payload, timestamp_ns);
  } else {
    creation_drops.fetch_add(1, std::memory_order_relaxed);
  }
}

std::uint64_t dropped() noexcept {
  const std::uint64_t lost = creation_drops.load(std::memory_order_relaxed);
  if (Logger* existing = global_logger.load(std::memory_order_acquire)) {
    return lost + existing->dropped();
  }
  return lost;
}

void start_drain() {
  static std::once_flag at_exit_registered;
  std::call_once(at_exit_registered, [] {
    std::atexit([] {
      // Bounded (see Logger::shutdown), and an exception here would terminate.
      try {
        if (Logger* global = global_logger.load(std::memory_order_acquire)) global->shutdown();
      } catch (...) {
      }
    });
  });
  logger().start_drain();
}

void shutdown() {
  logger().shutdown();
}

}  // namespace vil::log
