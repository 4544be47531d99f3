#include "vil/output/nats_sink.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "vil/output/broker_names.hpp"

namespace vil::output {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kMsgIdHeader = "Nats-Msg-Id";

// The last error nats.c noted on this thread, or the status's own words;
// with the password, should the text hold it, replaced.
std::string nats_error(natsStatus status, const std::string& password) {
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  std::string said = (text != nullptr && *text != '\0') ? text : natsStatus_GetText(status);
  // nats.c puts where it noted the error in front: "(conn.c:1905): ".
  if (said.starts_with('(')) {
    if (const size_t end = said.find("): "); end != std::string::npos) said.erase(0, end + 3);
  }
  if (!password.empty()) {
    for (size_t at = said.find(password); at != std::string::npos; at = said.find(password, at)) {
      said.replace(at, password.size(), "********");
    }
  }
  return said;
}

// The secret of a URL's user information: the password of user:password,
// or a token alone.
std::string secret_of(std::string_view url) {
  const size_t scheme = url.find("://");
  const size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const size_t end = url.find_first_of("/,", start);
  const std::string_view authority = url.substr(start, end - start);
  const size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return {};
  const std::string_view user_info = authority.substr(0, at);
  const size_t colon = user_info.find(':');
  return std::string(colon == std::string_view::npos ? user_info : user_info.substr(colon + 1));
}

// Whether a stream's subject filter takes every subject `wanted` (a
// pattern such as "P.>") matches: token by token, '*' one, '>' the rest.
bool covers(std::string_view filter, std::string_view wanted) {
  for (;;) {
    const size_t f_end = filter.find('.');
    const size_t w_end = wanted.find('.');
    const std::string_view f = filter.substr(0, f_end);
    const std::string_view w = wanted.substr(0, w_end);
    if (f == ">") return true;
    if (w == ">" || (f != "*" && f != w)) return false;
    if (f_end == std::string_view::npos || w_end == std::string_view::npos) {
      return f_end == std::string_view::npos && w_end == std::string_view::npos;
    }
    filter.remove_prefix(f_end + 1);
    wanted.remove_prefix(w_end + 1);
  }
}

// One message: where it goes, what it says, which change it belongs to.
struct Message {
  uint64_t sequence = 0;
  std::string subject;
  std::string id;
  std::string payload;
  bool acked = false;
};

// The bytes a message counts against max_payload: its headers (as nats.c
// encodes them: "NATS/1.0\r\n", "Name: value\r\n" each, "\r\n") and data.
size_t wire_size(const Message& m, const std::string& stream) {
  constexpr size_t kStatusLine = 10, kCrlf = 2, kSeparator = 2;
  const size_t headers =
      kStatusLine + kCrlf +
      (std::string_view(kMsgIdHeader).size() + kSeparator + m.id.size() + kCrlf) +
      (std::string_view("Nats-Expected-Stream").size() + kSeparator + stream.size() + kCrlf) +
      kCrlf;
  return headers + m.payload.size();
}

// nats.c's wait before reconnection attempt `attempts` (from 1): the
// stream's backoff, doubling from initial_backoff up to max_backoff.
int64_t reconnect_delay(natsConnection* /*nc*/, int attempts, void* closure) {
  const auto* options = static_cast<const NatsSinkOptions*>(closure);
  int64_t delay = options->initial_backoff.count();
  for (int i = 1; i < attempts && delay < options->max_backoff.count(); ++i) delay *= 2;
  return std::min<int64_t>(delay, options->max_backoff.count());
}

}  // namespace

std::string redact_nats_url(const std::string& url) {
  std::string shown;
  size_t from = 0;
  for (;;) {
    const size_t comma = url.find(',', from);
    std::string one =
        url.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    const size_t scheme = one.find("://");
    const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
    const size_t end = std::min(one.find('/', start), one.size());
    const size_t at = one.rfind('@', end);
    if (at != std::string::npos && at >= start) {
      const size_t colon = one.find(':', start);
      if (colon != std::string::npos && colon < at) {
        one.replace(colon + 1, at - colon - 1, "********");
      } else {
        one.replace(start, at - start, "********");
      }
    }
    shown += one;
    if (comma == std::string::npos) return shown;
    shown += ',';
    from = comma + 1;
  }
}

// Messages waiting to be published that wake the worker before the next
// flush().
constexpr uint64_t kWakeBatch = 256;

struct NatsSink::Impl {
  Impl(NatsSinkOptions o, ChangeEncoder e)
      : options(std::move(o)),
        encoder(std::move(e)),
        shown_url(redact_nats_url(options.url)),
        password(secret_of(options.url)),
        wanted_subjects(options.topic_prefix + ".>"),
        backoff(options.initial_backoff) {}

  NatsSinkOptions options;
  ChangeEncoder encoder;
  const std::string shown_url;
  const std::string password;
  const std::string wanted_subjects;  // "P.>"

  // nats.c's objects: made by check(), gone with the sink.
  natsOptions* nats_options = nullptr;
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  natsStatistics* statistics = nullptr;
  uint64_t reconnects_seen = 0;  // the worker's
  // Something was published: nats.c's list of pending messages exists (it
  // must not be asked for before).
  std::atomic<bool> published{false};

  // The trigger thread's.
  std::string encoded;
  std::vector<std::string> topics;

  std::mutex mutex;
  std::condition_variable changed;
  cdc::DeliveryAcks* acks = nullptr;  // set between bind() and drain()
  bool stopping = false;              // the sink goes away
  bool failed = false;                // a final refusal: nothing more is published this run
  // Every message not acknowledged yet, in the changes' order, from
  // `first_ordinal` on (acknowledged ones leave from the front).
  std::deque<Message> window;
  uint64_t first_ordinal = 0;
  uint64_t next_send = 0;  // the ordinal the worker publishes next
  std::unordered_multimap<std::string, uint64_t> ordinals_by_id;
  std::unordered_map<uint64_t, uint32_t> parts_left;  // a change's messages not acknowledged
  // Everything not acknowledged is published again at `resend_at`: a PubAck
  // timed out or said no, or the connection came back.
  bool resend = false;
  Clock::time_point resend_at;
  Clock::time_point publish_at;  // publishing paused until then (a full window, a lost connection)
  std::chrono::milliseconds backoff;
  std::thread worker;

  [[nodiscard]] uint64_t end_ordinal() const { return first_ordinal + window.size(); }
  [[nodiscard]] std::string destination(const std::string& subject) const {
    return fmt::format("{} subject {}", shown_url, subject);
  }

  std::expected<void, std::string> connect();
  std::expected<void, std::string> ensure_stream();
  // Whether JetStream answers for the stream and it still takes "P.>":
  // ready; not ready (no answer); or a final problem, in words.
  struct StreamState {
    bool ready = false;
    std::string problem;
  };
  StreamState probe_stream();
  void work();
  void publish_again();
  // Publishes from next_send on, a bounded batch; called and returning
  // with the lock held.
  void publish_some(std::unique_lock<std::mutex>& lock);
  // Under the lock: the run fails at this message's change.
  void fail_locked(const Message& m, std::string cause) {
    failed = true;
    if (acks != nullptr) acks->fail(m.sequence, destination(m.subject), std::move(cause));
    changed.notify_all();
  }
  void on_ack(natsMsg* msg, const jsPubAck* ack, const jsPubAckErr* error);
  // nats.c's callbacks, on its threads.
  static void ack_handler(jsCtx* /*js*/, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error,
                          void* closure) {
    static_cast<Impl*>(closure)->on_ack(msg, ack, error);
    natsMsg_Destroy(msg);
  }
  static void reconnected_handler(natsConnection* /*nc*/, void* closure) {
    auto* impl = static_cast<Impl*>(closure);
    {
      std::lock_guard lock(impl->mutex);
      impl->resend = true;
      impl->resend_at = Clock::now();
    }
    impl->changed.notify_all();
  }
  [[nodiscard]] uint64_t reconnects() const {
    uint64_t count = 0;
    if (natsConnection_GetStats(connection, statistics) == NATS_OK) {
      (void)natsStatistics_GetCounts(statistics, nullptr, nullptr, nullptr, nullptr, &count);
    }
    return count;
  }
  // The messages nats.c still waits a PubAck for, taken from it and
  // dropped (their PubAcks, should they come, are ignored). With or
  // without the lock: nats.c calls back without holding its own.
  void forget_pending() const {
    if (js == nullptr || !published.load()) return;
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, js) == NATS_OK) natsMsgList_Destroy(&pending);
  }
};

NatsSink::NatsSink(NatsSinkOptions options, ChangeEncoder encoder)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(encoder))) {
  impl_->worker = std::thread([impl = impl_.get()] { impl->work(); });
}

NatsSink::~NatsSink() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    impl_->acks = nullptr;
  }
  impl_->changed.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
  impl_->forget_pending();
  if (impl_->connection != nullptr) natsConnection_Close(impl_->connection);
  jsCtx_Destroy(impl_->js);
  natsConnection_Destroy(impl_->connection);
  natsOptions_Destroy(impl_->nats_options);
  natsStatistics_Destroy(impl_->statistics);
}

const ChangeEncoder& NatsSink::encoder() const {
  return impl_->encoder;
}

std::expected<void, std::string> NatsSink::check() {
  if (impl_->connection == nullptr) {
    if (auto connected = impl_->connect(); !connected) return connected;
  }
  return impl_->ensure_stream();
}

std::expected<void, std::string> NatsSink::Impl::connect() {
  natsStatus s = NATS_OK;
  if (nats_options == nullptr) {
    s = natsOptions_Create(&nats_options);
    if (s == NATS_OK) s = natsOptions_SetURL(nats_options, options.url.c_str());
    if (s == NATS_OK) s = natsOptions_SetName(nats_options, "vil-cdc");
    if (s == NATS_OK) s = natsOptions_SetTimeout(nats_options, options.connect_timeout.count());
    // Lost: reconnect without end, with the stream's backoff; while
    // reconnecting nothing is buffered (a publish fails and is retried), so
    // what is published again after a loss keeps its order.
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(nats_options, -1);
    if (s == NATS_OK) {
      s = natsOptions_SetReconnectWait(nats_options, options.initial_backoff.count());
    }
    if (s == NATS_OK) {
      s = natsOptions_SetCustomReconnectDelay(nats_options, reconnect_delay, &options);
    }
    if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(nats_options, 1);
    // A server gone without closing the connection (a network cut) is
    // noticed after two unanswered pings, 10 s apart, not nats.c's 2 minutes.
    if (s == NATS_OK) s = natsOptions_SetPingInterval(nats_options, 10'000);
    if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(nats_options, 2);
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(nats_options, reconnected_handler, this);
    if (s == NATS_OK) s = natsStatistics_Create(&statistics);
    if (s != NATS_OK) {
      return std::unexpected(fmt::format("{}: {}", shown_url, nats_error(s, password)));
    }
  }
  natsConnection* made = nullptr;
  s = natsConnection_Connect(&made, nats_options);
  if (s != NATS_OK) {
    return std::unexpected(
        fmt::format("cannot connect to {}: {}", shown_url, nats_error(s, password)));
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = options.connect_timeout.count();
  js_options.PublishAsync.MaxPending =
      static_cast<int64_t>(std::max<size_t>(1, options.max_pending));
  js_options.PublishAsync.AckHandler = ack_handler;
  js_options.PublishAsync.AckHandlerClosure = this;
  jsCtx* context = nullptr;
  s = natsConnection_JetStream(&context, made, &js_options);
  if (s != NATS_OK) {
    natsConnection_Destroy(made);
    return std::unexpected(fmt::format("{}: {}", shown_url, nats_error(s, password)));
  }
  // Handed to the worker, which looks at them under the lock.
  std::lock_guard lock(mutex);
  connection = made;
  js = context;
  reconnects_seen = reconnects();
  return {};
}

std::expected<void, std::string> NatsSink::Impl::ensure_stream() {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js, options.stream.c_str(), nullptr, &code);
  if (s != NATS_OK && code == JSStreamNotFoundErr) {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    const char* subjects[] = {wanted_subjects.c_str()};
    config.Name = options.stream.c_str();
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    code = static_cast<jsErrCode>(0);
    s = js_AddStream(&info, js, &config, nullptr, &code);
    if (s != NATS_OK) {
      return std::unexpected(fmt::format("{}: cannot create stream \"{}\" (subjects {}): {}",
                                         shown_url, options.stream, wanted_subjects,
                                         nats_error(s, password)));
    }
    jsStreamInfo_Destroy(info);
    return {};
  }
  if (s != NATS_OK) {
    if (s == NATS_NO_RESPONDERS || code == JSNotEnabledErr || code == JSNotEnabledForAccountErr) {
      return std::unexpected(fmt::format("{}: JetStream is not enabled there", shown_url));
    }
    return std::unexpected(fmt::format("{}: cannot look up stream \"{}\": {}", shown_url,
                                       options.stream, nats_error(s, password)));
  }
  bool taken = false;
  std::string listed;
  if (info->Config != nullptr) {
    for (int i = 0; i < info->Config->SubjectsLen; ++i) {
      const char* subject = info->Config->Subjects[i];
      taken = taken || covers(subject, wanted_subjects);
      listed += fmt::format("{}{}", listed.empty() ? "" : ", ", subject);
    }
  }
  jsStreamInfo_Destroy(info);
  if (!taken) {
    return std::unexpected(fmt::format(
        "{}: stream \"{}\" stores the subjects [{}], which do not take {}: add {} to it, or "
        "choose another --nats-stream or --topic-prefix",
        shown_url, options.stream, listed, wanted_subjects, wanted_subjects));
  }
  return {};
}

NatsSink::Impl::StreamState NatsSink::Impl::probe_stream() {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&info, js, options.stream.c_str(), nullptr, &code);
  if (s != NATS_OK) {
    if (code == JSStreamNotFoundErr) {
      return {.ready = false,
              .problem = fmt::format("stream \"{}\" does not exist any more", options.stream)};
    }
    return {};  // no answer (JetStream starting, the connection not back): later
  }
  bool taken = false;
  if (info->Config != nullptr) {
    for (int i = 0; i < info->Config->SubjectsLen; ++i) {
      taken = taken || covers(info->Config->Subjects[i], wanted_subjects);
    }
  }
  jsStreamInfo_Destroy(info);
  if (!taken) {
    return {.ready = false,
            .problem = fmt::format("stream \"{}\" does not store {} any more", options.stream,
                                   wanted_subjects)};
  }
  return {.ready = true, .problem = {}};
}

void NatsSink::bind(cdc::DeliveryAcks& acks) {
  std::lock_guard lock(impl_->mutex);
  impl_->acks = &acks;
  impl_->failed = false;
  impl_->backoff = impl_->options.initial_backoff;
}

void NatsSink::on_change(const cdc::Change& change) {
  Impl& impl = *impl_;
  impl.encoded.clear();
  impl.encoder.encode(change, impl.encoded);
  change_topics(impl.options.topic_prefix, change, impl.topics);
  // The encoder's lines: one, or (a Debezium truncate) one per table.
  std::vector<std::string_view> lines;
  for (std::string_view rest = impl.encoded; !rest.empty();) {
    const size_t end = rest.find('\n');
    lines.push_back(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  }
  if (lines.empty()) lines.emplace_back();
  const std::string key = change_key(change);
  std::lock_guard lock(impl.mutex);
  if (impl.acks == nullptr || impl.failed) return;
  if (impl.connection == nullptr) {
    impl.failed = true;
    impl.acks->fail(change.sequence, impl.shown_url, "not connected: check() was not called");
    return;
  }
  if (impl.topics.empty()) {  // nowhere to go (a change without a relation): nothing to wait for
    impl.acks->acknowledge(change.sequence);
    return;
  }
  for (size_t n = 0; n < impl.topics.size(); ++n) {
    Message m;
    m.sequence = change.sequence;
    m.subject = impl.topics[n];
    m.id = n == 0 ? key : fmt::format("{}:{}", key, n);
    m.payload = std::string(lines.size() == impl.topics.size() ? lines[n] : lines.front());
    impl.ordinals_by_id.emplace(m.id, impl.end_ordinal());
    impl.window.push_back(std::move(m));
  }
  impl.parts_left[change.sequence] = static_cast<uint32_t>(impl.topics.size());
  // The worker is woken for a batch, or by flush(): a wake-up per message
  // cost a context switch each.
  if (impl.end_ordinal() - impl.next_send >= kWakeBatch) impl.changed.notify_all();
}

void NatsSink::flush() {
  impl_->changed.notify_all();
}

void NatsSink::drain() {
  Impl& impl = *impl_;
  std::unique_lock lock(impl.mutex);
  impl.changed.wait_for(lock, impl.options.drain_timeout,
                        [&] { return impl.failed || impl.window.empty(); });
  // What is not acknowledged by now stays unconfirmed, and comes again
  // next run (JetStream drops it then if it did store it).
  impl.acks = nullptr;
  impl.first_ordinal = impl.end_ordinal();
  impl.next_send = impl.first_ordinal;
  impl.window.clear();
  impl.ordinals_by_id.clear();
  impl.parts_left.clear();
  impl.resend = false;
  lock.unlock();
  impl.forget_pending();
}

void NatsSink::Impl::on_ack(natsMsg* msg, const jsPubAck* ack, const jsPubAckErr* error) {
  const char* id = nullptr;
  if (natsMsgHeader_Get(msg, kMsgIdHeader, &id) != NATS_OK || id == nullptr) return;
  std::lock_guard lock(mutex);
  if (acks == nullptr || failed) return;
  // The oldest message not acknowledged with this id (a change the trigger
  // delivered again within the run shares it).
  uint64_t ordinal = UINT64_MAX;
  const auto [from, to] = ordinals_by_id.equal_range(id);
  auto found = to;
  for (auto it = from; it != to; ++it) {
    if (it->second >= first_ordinal && it->second < ordinal) {
      ordinal = it->second;
      found = it;
    }
  }
  if (found == to) return;  // from before the run's end, or acknowledged already
  Message& m = window[ordinal - first_ordinal];
  if (ack != nullptr) {
    backoff = options.initial_backoff;
    m.acked = true;
    ordinals_by_id.erase(found);
    if (const auto left = parts_left.find(m.sequence);
        left != parts_left.end() && --left->second == 0) {
      parts_left.erase(left);
      acks->acknowledge(m.sequence);
    }
    while (!window.empty() && window.front().acked) {
      window.pop_front();
      ++first_ordinal;
    }
    next_send = std::max(next_send, first_ordinal);
    // drain() waits for an empty window; the worker, when nats.c's window
    // was full, looks again on its own.
    if (window.empty()) changed.notify_all();
    return;
  }
  if (error == nullptr) return;
  // Passing: no PubAck in time, nobody answering while JetStream (re)starts,
  // JetStream busy. Everything not acknowledged goes again, in order.
  const bool passing = error->Err != NATS_ERR || error->ErrCode == JSClusterNotAvailErr;
  if (passing) {
    if (!resend) {
      resend = true;
      resend_at = Clock::now() + backoff;
      backoff = std::min(options.max_backoff, backoff * 2);
    }
    changed.notify_all();
    return;
  }
  const char* text = error->ErrText != nullptr ? error->ErrText : natsStatus_GetText(error->Err);
  fail_locked(m, fmt::format("JetStream refused it: {} (error {})", text,
                             static_cast<int>(error->ErrCode)));
}

void NatsSink::Impl::work() {
  std::unique_lock lock(mutex);
  for (;;) {
    if (stopping) return;
    const auto now = Clock::now();
    const bool ready = acks != nullptr && js != nullptr && !failed;
    if (ready && resend && now >= resend_at) {
      lock.unlock();
      publish_again();
      lock.lock();
      continue;
    }
    if (ready && !resend && next_send < end_ordinal() && now >= publish_at) {
      publish_some(lock);
      continue;
    }
    auto wake = now + std::chrono::seconds(1);
    if (ready && resend) wake = std::min(wake, resend_at);
    if (ready && !resend && next_send < end_ordinal()) wake = std::min(wake, publish_at);
    changed.wait_until(lock, wake);
  }
}

void NatsSink::Impl::publish_again() {
  // Nothing goes before JetStream answers for the stream again: a message
  // published while it does not (after a restart) would be refused with "no
  // responders" and go again behind later ones.
  StreamState state = probe_stream();
  std::lock_guard lock(mutex);
  if (!state.problem.empty()) {
    if (!window.empty() && acks != nullptr && !failed) {
      fail_locked(window.front(), std::move(state.problem));
    }
    resend = false;
    return;
  }
  if (!state.ready) {
    resend_at = Clock::now() + backoff;
    backoff = std::min(options.max_backoff, backoff * 2);
    return;
  }
  // Taken back from nats.c, so a PubAck that comes for the first sending is
  // ignored; the second sending's answers (a duplicate, if stored) count.
  forget_pending();
  reconnects_seen = reconnects();
  resend = false;
  next_send = first_ordinal;
}

void NatsSink::Impl::publish_some(std::unique_lock<std::mutex>& lock) {
  jsPubOptions publish_options;
  jsPubOptions_Init(&publish_options);
  publish_options.MaxWait = options.ack_timeout.count();
  publish_options.ExpectStream = options.stream.c_str();
  for (int batch = 0; batch < 256 && !stopping && !failed && !resend && acks != nullptr &&
                      next_send < end_ordinal();
       ++batch) {
    const uint64_t ordinal = next_send;
    const Message& m = window[ordinal - first_ordinal];
    if (m.acked) {
      ++next_send;
      continue;
    }
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, m.subject.c_str(), nullptr, m.payload.data(),
                                  static_cast<int>(m.payload.size()));
    const std::string id = m.id;
    lock.unlock();
    // Asked before each message. A reconnection since the last look: what
    // waits for a PubAck may be lost, and goes again before anything new,
    // so that each subject keeps its order. Lost and reconnecting: nothing
    // is published (nats.c would keep it and send it first once back,
    // ahead of what the loss makes go again).
    const bool reconnected = reconnects() != reconnects_seen;
    const bool connected = natsConnection_Status(connection) == NATS_CONN_STATUS_CONNECTED;
    if (reconnected || !connected) {
      natsMsg_Destroy(msg);
      lock.lock();
      if (reconnected) {
        resend = true;
        resend_at = Clock::now();
      } else {
        publish_at = Clock::now() + std::chrono::milliseconds(50);
      }
      return;
    }
    publish_options.MsgId = id.c_str();
    if (s == NATS_OK) s = js_PublishMsgAsync(js, &msg, &publish_options);
    natsMsg_Destroy(msg);  // nothing when nats.c took it
    lock.lock();
    if (s == NATS_OK) {
      published.store(true);
      if (next_send == ordinal) ++next_send;
      continue;
    }
    if (ordinal < first_ordinal) continue;  // acknowledged meanwhile (a late first sending)
    const Message& refused = window[ordinal - first_ordinal];
    if (s == NATS_MAX_PAYLOAD) {
      fail_locked(refused, fmt::format("message of {} bytes exceeds the server's max_payload of {} "
                                       "bytes",
                                       wire_size(refused, options.stream),
                                       natsConnection_GetMaxPayload(connection)));
      return;
    }
    // The window is full, the connection is being made again: later.
    publish_at = Clock::now() + std::chrono::milliseconds(50);
    return;
  }
}

}  // namespace vil::output
