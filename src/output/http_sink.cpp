#include "vil/output/http_sink.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "vil/output/broker_names.hpp"

namespace vil::output {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyCleanup {
  void operator()(CURL* curl) const noexcept { curl_easy_cleanup(curl); }
};
using Easy = std::unique_ptr<CURL, EasyCleanup>;

struct SlistCleanup {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistCleanup>;

// The URL with its password, if any, replaced: the only form messages show.
std::string redact_url(const std::string& url) {
  CURLU* parsed = curl_url();
  if (parsed == nullptr) return "(the URL)";
  std::string shown = url;
  if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* password = nullptr;
    if (curl_url_get(parsed, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
      curl_free(password);
      char* out = nullptr;
      if (curl_url_set(parsed, CURLUPART_PASSWORD, "********", 0) == CURLUE_OK &&
          curl_url_get(parsed, CURLUPART_URL, &out, 0) == CURLUE_OK) {
        shown = out;
      } else {
        shown = "(the URL)";
      }
      curl_free(out);
    }
  }
  curl_url_cleanup(parsed);
  return shown;
}

// Keeps the first line of a response body, for a refusal's message.
size_t keep_first_line(char* data, size_t size, size_t count, void* user) {
  auto* line = static_cast<std::string*>(user);
  const size_t bytes = size * count;
  if (line->size() < 200 && line->find('\n') == std::string::npos) {
    line->append(data, std::min(bytes, 200 - line->size()));
  }
  return bytes;
}

// One batch: its lines, its changes, its key.
struct Batch {
  std::string body;
  std::vector<uint64_t> sequences;
  std::string first_key;
  std::string last_key;
  [[nodiscard]] bool empty() const { return sequences.empty(); }
};

}  // namespace

struct HttpSink::Impl {
  Impl(HttpSinkOptions o, ChangeEncoder e) : options(std::move(o)), encoder(std::move(e)) {}

  HttpSinkOptions options;
  ChangeEncoder encoder;
  std::string shown_url;
  Batch current;  // the delivery thread's
  // The current batch holds changes of a transaction whose Commit has not
  // come: a flush does not cut it (a batch is a transaction, or
  // batch_bytes of one).
  bool in_transaction = false;

  std::mutex mutex;
  std::condition_variable changed;
  cdc::DeliveryAcks* acks = nullptr;
  std::deque<Batch> queue;
  // Posted batches, emptied, for the next ones: a batch's body grows to
  // hundreds of kilobytes, and a fresh one each time costs its growth's
  // copies and page faults again.
  std::vector<Batch> spare;
  bool posting = false;   // the worker holds a batch
  bool stopping = false;  // the sink goes away
  bool abandon = false;   // the run ended: what waits is given up, until bind()
  bool failed = false;
  std::thread worker;

  void enqueue() {
    if (current.empty()) return;
    {
      std::lock_guard lock(mutex);
      queue.push_back(std::move(current));
      if (spare.empty()) {
        current = Batch{};
      } else {
        current = std::move(spare.back());
        spare.pop_back();
      }
    }
    changed.notify_all();
  }

  // Under mutex: `batch` posted, its buffers kept for another.
  void recycle(Batch&& batch) {
    if (spare.size() >= 4) return;
    batch.body.clear();
    batch.sequences.clear();
    spare.push_back(std::move(batch));
  }

  void work();
  // Posts until the receiver takes it, the answer is final, or the sink
  // stops. True when taken.
  bool post(CURL* curl, const Batch& batch);
  // Waits `delay` unless the sink stops first; false when it does.
  bool sleep(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex);
    return !changed.wait_for(lock, delay, [&] { return stopping || abandon; });
  }
};

HttpSink::HttpSink(HttpSinkOptions options, ChangeEncoder encoder)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(encoder))) {
  global_init();
  impl_->shown_url = redact_url(impl_->options.url);
  impl_->worker = std::thread([impl = impl_.get()] { impl->work(); });
}

HttpSink::~HttpSink() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->changed.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
}

const ChangeEncoder& HttpSink::encoder() const {
  return impl_->encoder;
}

std::expected<void, std::string> HttpSink::check() const {
  Easy curl(curl_easy_init());
  if (!curl) return std::unexpected("out of memory");
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_URL, impl_->options.url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(impl_->options.timeout.count()));
  const CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    return std::unexpected(fmt::format("cannot reach {}: {}", impl_->shown_url,
                                       error[0] != '\0' ? error : curl_easy_strerror(code)));
  }
  return {};
}

void HttpSink::bind(cdc::DeliveryAcks& acks) {
  std::lock_guard lock(impl_->mutex);
  impl_->acks = &acks;
  impl_->abandon = false;
  impl_->failed = false;
}

void HttpSink::on_change(const cdc::Change& change) {
  Batch& batch = impl_->current;
  impl_->encoder.encode(change, batch.body);
  std::string key = change_key(change);
  if (batch.empty()) batch.first_key = key;
  batch.last_key = std::move(key);
  batch.sequences.push_back(change.sequence);
  impl_->in_transaction = change.in_transaction();
  if (batch.body.size() >= impl_->options.batch_bytes) impl_->enqueue();
}

void HttpSink::on_commit(const cdc::TransactionEnd& /*transaction*/) {
  impl_->in_transaction = false;
  impl_->enqueue();
}

void HttpSink::flush() {
  if (!impl_->in_transaction) impl_->enqueue();
}

void HttpSink::window_full() {
  impl_->enqueue();
}

void HttpSink::drain() {
  // A transaction cut short is not confirmable: it comes again whole.
  if (!impl_->in_transaction) impl_->enqueue();
  impl_->current = Batch{};
  impl_->in_transaction = false;
  std::unique_lock lock(impl_->mutex);
  impl_->changed.wait_for(lock, impl_->options.drain_timeout, [&] {
    return impl_->failed || (impl_->queue.empty() && !impl_->posting);
  });
  // What is not taken by now stays unconfirmed, and comes again next run.
  impl_->queue.clear();
  impl_->abandon = true;
  lock.unlock();
  impl_->changed.notify_all();
}

void HttpSink::Impl::work() {
  Easy curl(curl_easy_init());
  for (;;) {
    Batch batch;
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return stopping || (!queue.empty() && acks != nullptr); });
      if (stopping) return;
      if (failed) {  // the run ends: nothing after the refused batch is sent
        queue.clear();
        continue;
      }
      batch = std::move(queue.front());
      queue.pop_front();
      posting = true;
    }
    const bool taken = curl && post(curl.get(), batch);
    cdc::DeliveryAcks* to = nullptr;
    {
      std::lock_guard lock(mutex);
      posting = false;
      to = acks;
    }
    if (taken) {
      for (const uint64_t sequence : batch.sequences) to->acknowledge(sequence);
    }
    {
      std::lock_guard lock(mutex);
      recycle(std::move(batch));
    }
    changed.notify_all();
  }
}

bool HttpSink::Impl::post(CURL* curl, const Batch& batch) {
  const std::string idempotency =
      fmt::format("Idempotency-Key: {}-{}", batch.first_key, batch.last_key);
  Slist headers(curl_slist_append(nullptr, "Content-Type: application/x-ndjson"));
  curl_slist_append(headers.get(), idempotency.c_str());
  curl_slist_append(headers.get(), "Expect:");  // no 100-continue round trip
  std::chrono::milliseconds backoff = options.initial_backoff;
  for (;;) {
    char error[CURL_ERROR_SIZE] = {};
    std::string first_line;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, options.url.c_str());
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, batch.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(batch.body.size()));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_first_line);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &first_line);
    const CURLcode code = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (code == CURLE_OK && status >= 200 && status < 300) return true;
    // Refused for good: the receiver will not take this batch, ever.
    if (code == CURLE_OK && status != 429 && status < 500) {
      first_line = first_line.substr(0, first_line.find('\n'));
      if (!first_line.empty() && first_line.back() == '\r') first_line.pop_back();
      cdc::DeliveryAcks* to = nullptr;
      {
        std::lock_guard lock(mutex);
        failed = true;
        to = acks;
      }
      to->fail(batch.sequences.front(), shown_url,
               first_line.empty() ? fmt::format("HTTP {}", status)
                                  : fmt::format("HTTP {}: {}", status, first_line));
      return false;
    }
    // 429, 5xx, a connection refused or lost, a time-out: again, later.
    if (!sleep(backoff)) return false;
    backoff = std::min(options.max_backoff, backoff * 2);
  }
}

}  // namespace vil::output
