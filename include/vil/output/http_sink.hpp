#pragma once
// HttpSink: changes POSTed to a URL as batches of lines (a webhook), each
// confirmed to the server only once the receiver answered 2xx
// (docs/DESIGN.md §3.1, §4.4).
//
// A batch is one transaction's lines, or fewer when they pass
// `batch_bytes`; lines outside a transaction (snapshot rows, messages) go at
// the next flush. Each POST carries `Content-Type: application/x-ndjson` and
// an `Idempotency-Key` made of its first and last changes' keys
// (`commit_lsn:seq`), the same on every retry. 429, 5xx and transport errors
// (refused, reset, timed out) are retried with backoff until the receiver
// takes the batch; any other answer fails the run with the status and the
// first line of the body. The POSTs run on the sink's own thread, in order.

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include "vil/cdc/change.hpp"
#include "vil/output/change_encoder.hpp"

namespace vil::output {

struct HttpSinkOptions {
  std::string url;                  // http:// or https://; a password in it is never shown
  uint64_t batch_bytes = 1u << 20;  // a batch is cut after the line that reaches this
  std::chrono::milliseconds timeout{30'000};        // one POST, connecting included
  std::chrono::milliseconds initial_backoff{500};   // the first wait before a retry
  std::chrono::milliseconds max_backoff{30'000};    // the longest
  std::chrono::milliseconds drain_timeout{10'000};  // the run's end waits at most this
};

class HttpSink final : public cdc::AsyncChangeSink {
 public:
  HttpSink(HttpSinkOptions options, ChangeEncoder encoder);
  ~HttpSink() override;
  HttpSink(const HttpSink&) = delete;
  HttpSink& operator=(const HttpSink&) = delete;

  // Whether a TCP (and TLS) connection to the URL's server can be made now:
  // for a clear error before streaming starts. The error names the URL
  // (without a password) and the cause.
  [[nodiscard]] std::expected<void, std::string> check() const;

  void bind(cdc::DeliveryAcks& acks) override;
  void on_change(const cdc::Change& change) override;
  void on_commit(const cdc::TransactionEnd& transaction) override;
  // Sends the batch held back, even part of a transaction: with the window
  // full nothing else would be acknowledged.
  void window_full() override;
  void flush() override;
  void drain() override;

  [[nodiscard]] const ChangeEncoder& encoder() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vil::output
