#include "vil/output/kafka_sink.hpp"

#include <librdkafka/rdkafka.h>

#include <array>
#include <atomic>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "vil/output/broker_names.hpp"
#include "vil/pgoutput/lsn.hpp"

namespace vil::output {

namespace {

struct ProducerDestroy {
  void operator()(rd_kafka_t* producer) const noexcept { rd_kafka_destroy(producer); }
};
using Producer = std::unique_ptr<rd_kafka_t, ProducerDestroy>;

struct ConfDestroy {
  void operator()(rd_kafka_conf_t* conf) const noexcept { rd_kafka_conf_destroy(conf); }
};

struct ErrorDestroy {
  void operator()(rd_kafka_error_t* error) const noexcept { rd_kafka_error_destroy(error); }
};
using Error = std::unique_ptr<rd_kafka_error_t, ErrorDestroy>;

// Whether a property's value may be a secret (a password, a key, a token):
// such a value is cut out of any message that quotes it.
bool secret_property(std::string_view name) {
  for (const std::string_view word :
       {"password", "secret", "key", "token", "jaas", "oauthbearer"}) {
    if (name.find(word) != std::string_view::npos) return true;
  }
  return false;
}

std::string without_value(std::string text, const std::string& name, const std::string& value) {
  if (!secret_property(name) || value.empty()) return text;
  for (size_t at = text.find(value); at != std::string::npos; at = text.find(value, at)) {
    text.replace(at, value.size(), "********");
    at += 8;
  }
  return text;
}

// librdkafka's bound on one message, as the producer was configured.
std::string message_max_bytes(rd_kafka_t* producer) {
  std::array<char, 32> value{};
  size_t size = value.size();
  if (rd_kafka_conf_get(rd_kafka_conf(producer), "message.max.bytes", value.data(), &size) !=
      RD_KAFKA_CONF_OK) {
    return "its limit";
  }
  return fmt::format("message.max.bytes ({} bytes)", value.data());
}

}  // namespace

struct KafkaSink::Impl {
  Impl(KafkaSinkOptions o, ChangeEncoder e) : options(std::move(o)), encoder(std::move(e)) {}

  KafkaSinkOptions options;
  ChangeEncoder encoder;
  Producer producer;
  std::thread poller;  // serves delivery reports
  std::atomic<bool> stopping{false};

  // The delivery thread's: topic handles by name, and each relation's by its
  // OID (checked against its name, as a relation may be described again).
  struct RelationTopic {
    std::string qualified_name;
    rd_kafka_topic_t* topic = nullptr;
  };
  std::unordered_map<std::string, rd_kafka_topic_t*> topics;
  std::unordered_map<pgoutput::Oid, RelationTopic> relation_topics;
  std::vector<std::string> topic_names;
  std::vector<rd_kafka_topic_t*> targets;
  std::string lines;
  std::string key;

  std::mutex mutex;
  cdc::DeliveryAcks* acks = nullptr;
  bool abandon = false;  // the run ended: reports are not passed on, until bind()
  std::atomic<bool> failed{false};
  // Changes that became more than one message (a truncate of several
  // tables, a delete and its tombstone): the reports still to come.
  std::unordered_map<uint64_t, uint32_t> remaining;

  rd_kafka_topic_t* topic(const std::string& name) {
    auto [at, inserted] = topics.try_emplace(name, nullptr);
    if (inserted) at->second = rd_kafka_topic_new(producer.get(), name.c_str(), nullptr);
    return at->second;
  }

  rd_kafka_topic_t* relation_topic(const pgoutput::RelationSchema& relation) {
    RelationTopic& known = relation_topics[relation.id];
    if (known.topic == nullptr || known.qualified_name != relation.qualified_name) {
      known.qualified_name = relation.qualified_name;
      known.topic =
          topic(table_topic(options.topic_prefix, relation.namespace_name, relation.name));
    }
    return known.topic;
  }

  std::string destination(std::string_view topic_name) const {
    return fmt::format("Kafka topic {} ({})", topic_name, options.brokers);
  }

  void fail(uint64_t sequence, std::string destination, std::string cause) {
    std::lock_guard lock(mutex);
    failed = true;
    if (acks != nullptr && !abandon) acks->fail(sequence, std::move(destination), std::move(cause));
  }

  bool produce(rd_kafka_topic_t* to, std::string_view value, bool tombstone, bool keyed,
               uint64_t sequence, std::string_view commit_lsn, std::string_view seq);
  void delivered(const rd_kafka_message_t& message);

  // librdkafka's callbacks, on its threads (the poller's for deliveries).
  static void on_delivery(rd_kafka_t* /*producer*/, const rd_kafka_message_t* message,
                          void* opaque) {
    static_cast<Impl*>(opaque)->delivered(*message);
  }
  static void on_log(const rd_kafka_t* producer, int level, const char* facility,
                     const char* text) {
    auto* impl = static_cast<Impl*>(rd_kafka_opaque(producer));
    if (level <= 4 && impl != nullptr && impl->options.on_notice) {  // warnings and worse
      impl->options.on_notice(fmt::format("kafka: {}: {}", facility, text));
    }
  }
  static void on_error(rd_kafka_t* /*producer*/, int error, const char* reason, void* opaque) {
    auto* impl = static_cast<Impl*>(opaque);
    if (impl->options.on_notice) {
      impl->options.on_notice(fmt::format(
          "kafka: {}: {}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(error)), reason));
    }
  }
};

void KafkaSink::Impl::delivered(const rd_kafka_message_t& message) {
  const auto sequence = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(message._private));
  std::lock_guard lock(mutex);
  if (acks == nullptr || abandon) return;
  if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (auto more = remaining.find(sequence); more != remaining.end()) {
      if (--more->second > 0) return;
      remaining.erase(more);
    }
    acks->acknowledge(sequence);
    return;
  }
  // Given up by drain(): it comes again next run.
  if (message.err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
      message.err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
    return;
  }
  std::string cause =
      message.err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
          ? fmt::format(
                "the broker refused a message of {} bytes as too large (its message.max.bytes, "
                "or the topic's max.message.bytes)",
                message.len)
          : fmt::format("{} ({})", rd_kafka_err2str(message.err), rd_kafka_err2name(message.err));
  failed = true;
  acks->fail(sequence, destination(rd_kafka_topic_name(message.rkt)), std::move(cause));
}

bool KafkaSink::Impl::produce(rd_kafka_topic_t* to, std::string_view value, bool tombstone,
                              bool keyed, uint64_t sequence, std::string_view commit_lsn,
                              std::string_view seq) {
  std::array<rd_kafka_vu_t, 7> fields{};
  size_t n = 0;
  fields[n].vtype = RD_KAFKA_VTYPE_RKT;
  fields[n++].u.rkt = to;
  fields[n].vtype = RD_KAFKA_VTYPE_VALUE;
  fields[n].u.mem.ptr = tombstone ? nullptr : const_cast<char*>(value.data());
  fields[n++].u.mem.size = tombstone ? 0 : value.size();
  if (keyed) {
    fields[n].vtype = RD_KAFKA_VTYPE_KEY;
    fields[n].u.mem.ptr = key.data();
    fields[n++].u.mem.size = key.size();
  }
  fields[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  fields[n++].u.ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(sequence));
  fields[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  fields[n++].u.i = RD_KAFKA_MSG_F_COPY;
  fields[n].vtype = RD_KAFKA_VTYPE_HEADER;
  fields[n++].u.header = {"vil.commit_lsn", commit_lsn.data(),
                          static_cast<ssize_t>(commit_lsn.size())};
  fields[n].vtype = RD_KAFKA_VTYPE_HEADER;
  fields[n++].u.header = {"vil.seq", seq.data(), static_cast<ssize_t>(seq.size())};
  for (;;) {
    const Error error(rd_kafka_produceva(producer.get(), fields.data(), n));
    if (!error) return true;
    const rd_kafka_resp_err_t code = rd_kafka_error_code(error.get());
    // The producer's own queue is full: wait for reports to empty it.
    if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stopping) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    std::string cause =
        code == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
            ? fmt::format("a message of {} bytes is larger than {}", value.size() + key.size(),
                          message_max_bytes(producer.get()))
            : fmt::format("{} ({})", rd_kafka_error_string(error.get()), rd_kafka_err2name(code));
    fail(sequence, destination(rd_kafka_topic_name(to)), std::move(cause));
    return false;
  }
}

KafkaSink::KafkaSink(KafkaSinkOptions options, ChangeEncoder encoder)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(encoder))) {}

KafkaSink::~KafkaSink() {
  impl_->stopping = true;
  if (impl_->poller.joinable()) impl_->poller.join();
  if (impl_->producer) {
    // What was never acknowledged is not confirmed: it comes again next run.
    rd_kafka_purge(impl_->producer.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    for (auto& [name, topic] : impl_->topics) rd_kafka_topic_destroy(topic);
  }
}

const ChangeEncoder& KafkaSink::encoder() const {
  return impl_->encoder;
}

std::expected<void, std::string> KafkaSink::configure() {
  std::unique_ptr<rd_kafka_conf_t, ConfDestroy> conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  const auto set = [&](const std::string& name,
                       const std::string& value) -> std::expected<void, std::string> {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error.data(), error.size()) !=
        RD_KAFKA_CONF_OK) {
      return std::unexpected(
          fmt::format("Kafka property {}: {}", name, without_value(error.data(), name, value)));
    }
    return {};
  };
  // As Kafka Connect runs a source connector's producer: every in-sync
  // replica has a message before it counts, and retries neither duplicate
  // nor reorder.
  const std::pair<std::string, std::string> defaults[] = {
      {"bootstrap.servers", impl_->options.brokers},
      {"acks", "all"},
      {"enable.idempotence", "true"},
      {"partitioner", "murmur2_random"},
      {"message.timeout.ms", "0"},
  };
  for (const auto& [name, value] : defaults) {
    if (auto r = set(name, value); !r) return r;
  }
  for (const auto& [name, value] : impl_->options.properties) {
    if (auto r = set(name, value); !r) return r;
  }
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), Impl::on_delivery);
  rd_kafka_conf_set_log_cb(conf.get(), Impl::on_log);
  rd_kafka_conf_set_error_cb(conf.get(), Impl::on_error);
  // rd_kafka_new takes the configuration only when it succeeds.
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error.data(), error.size());
  if (producer == nullptr) {
    std::string text = error.data();
    for (const auto& [name, value] : impl_->options.properties) {
      text = without_value(std::move(text), name, value);
    }
    return std::unexpected(fmt::format("Kafka producer: {}", text));
  }
  (void)conf.release();
  impl_->producer.reset(producer);
  impl_->poller = std::thread([impl = impl_.get()] {
    while (!impl->stopping) rd_kafka_poll(impl->producer.get(), 100);
  });
  return {};
}

std::expected<void, std::string> KafkaSink::check() const {
  if (!impl_->producer) return std::unexpected("the Kafka producer was not configured");
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t error =
      rd_kafka_metadata(impl_->producer.get(), 0, nullptr, &metadata,
                        static_cast<int>(impl_->options.check_timeout.count()));
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::unexpected(fmt::format("cannot reach Kafka brokers {}: {}", impl_->options.brokers,
                                       rd_kafka_err2str(error)));
  }
  rd_kafka_metadata_destroy(metadata);
  return {};
}

void KafkaSink::bind(cdc::DeliveryAcks& acks) {
  std::lock_guard lock(impl_->mutex);
  impl_->acks = &acks;
  impl_->abandon = false;
  impl_->failed = false;
  impl_->remaining.clear();
}

void KafkaSink::on_change(const cdc::Change& change) {
  Impl& s = *impl_;
  if (s.failed || !s.producer) return;  // the run ends at the failure
  s.lines.clear();
  s.encoder.encode(change, s.lines);
  s.key.clear();
  const bool keyed = s.encoder.encode_key(change, s.key);

  s.targets.clear();
  if (change.relation != nullptr && change.kind != cdc::ChangeKind::Truncate &&
      change.kind != cdc::ChangeKind::Message) {
    s.targets.push_back(s.relation_topic(*change.relation));
  } else {
    change_topics(s.options.topic_prefix, change, s.topic_names);
    for (const std::string& name : s.topic_names) s.targets.push_back(s.topic(name));
  }
  const bool tombstone = s.options.tombstones && keyed && change.kind == cdc::ChangeKind::Delete;
  const auto messages = static_cast<uint32_t>(s.targets.size() + (tombstone ? 1 : 0));
  if (messages == 0) {  // nowhere to go (a change without its relation)
    std::lock_guard lock(s.mutex);
    if (s.acks != nullptr) s.acks->acknowledge(change.sequence);
    return;
  }
  if (messages > 1) {
    std::lock_guard lock(s.mutex);
    s.remaining[change.sequence] = messages;
  }

  const ChangeKeyParts key_parts = change_key_parts(change);
  const std::string_view commit_lsn = key_parts.lsn.view();
  const std::string_view seq = key_parts.seq_view();
  // One line per table (a Debezium truncate), or the one line for each.
  std::string_view rest(s.lines);
  for (rd_kafka_topic_t* to : s.targets) {
    const size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    if (end != std::string_view::npos && end + 1 < rest.size()) rest.remove_prefix(end + 1);
    if (!s.produce(to, line, false, keyed, change.sequence, commit_lsn, seq)) return;
  }
  if (tombstone)
    (void)s.produce(s.targets.back(), {}, true, true, change.sequence, commit_lsn, seq);
}

void KafkaSink::drain() {
  Impl& s = *impl_;
  if (!s.producer) return;
  if (!s.failed) {
    rd_kafka_flush(s.producer.get(), static_cast<int>(s.options.drain_timeout.count()));
  }
  {
    std::lock_guard lock(s.mutex);
    s.abandon = true;
  }
  // What is not acknowledged by now stays unconfirmed, and comes again.
  rd_kafka_purge(s.producer.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
}

}  // namespace vil::output
