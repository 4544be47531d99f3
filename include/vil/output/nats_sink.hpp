#pragma once
// NatsSink: changes published to a NATS JetStream stream (nats.c), each
// confirmed to the server only once JetStream acknowledged every message of
// it (docs/DESIGN.md §3.1, §4.6).
//
// A change goes to the subjects broker_names.hpp names ("P.schema.table",
// each table of a truncate, "P._message"), its line (without the '\n') as
// the payload and `Nats-Msg-Id: <commit_lsn>:<seq>` as its header; the
// message of a truncate to its n-th table (n >= 1, from 0) carries
// "<key>:<n>". JetStream drops a message whose id it stored within its
// duplicate window (2 minutes by default), so what a restart sends again is
// stored once: exactly-once into the stream. A PubAck that says "duplicate"
// acknowledges, as the message is in the stream.
//
// Publishing is asynchronous, on the sink's own thread, in the order of the
// changes; the window of messages waiting for their PubAck is bounded by
// `max_pending` (and by the trigger's max_in_flight). A message whose
// PubAck timed out or came back with a passing error (no responders while
// JetStream starts, a connection lost) is published again, with the same
// id, after a backoff; when the connection comes back after a loss every
// message not acknowledged yet is published again in its order, so the
// stream keeps each subject's order. A final refusal (a message over the
// server's max_payload, the stream deleted, another stream storing the
// subject, a JetStream error) fails the run with the subject and the cause.
// nats.c reconnects by itself, without limit, with the backoff given here.

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include "vil/cdc/change.hpp"
#include "vil/output/change_encoder.hpp"

namespace vil::output {

struct NatsSinkOptions {
  std::string url;     // nats://[user:password@]host:port; a password in it is never shown
  std::string stream;  // the JetStream stream; created (subjects "P.>", file storage) if missing
  std::string topic_prefix;   // P: subjects are "P.schema.table" and "P._message"
  size_t max_pending = 4096;  // messages published and not yet acknowledged
  std::chrono::milliseconds connect_timeout{5'000};  // connecting, and each JetStream API request
  std::chrono::milliseconds ack_timeout{10'000};     // a PubAck not there by then: published again
  std::chrono::milliseconds initial_backoff{500};    // the first wait to reconnect or publish again
  std::chrono::milliseconds max_backoff{30'000};     // the longest
  std::chrono::milliseconds drain_timeout{10'000};   // the run's end waits at most this
};

// The URL as messages show it: a password (or a token) replaced by ********.
[[nodiscard]] std::string redact_nats_url(const std::string& url);

class NatsSink final : public cdc::AsyncChangeSink {
 public:
  NatsSink(NatsSinkOptions options, ChangeEncoder encoder);
  ~NatsSink() override;
  NatsSink(const NatsSink&) = delete;
  NatsSink& operator=(const NatsSink&) = delete;

  // Connects to the server and makes sure the stream is there and stores
  // "P.>", creating it when missing: call once before streaming (changes
  // handed over before are failed). The error names the URL (without a
  // password) and the cause: the server not there, a refused login,
  // JetStream not enabled, or a stream that does not take "P.>".
  [[nodiscard]] std::expected<void, std::string> check();

  void bind(cdc::DeliveryAcks& acks) override;
  void on_change(const cdc::Change& change) override;
  void flush() override;
  void drain() override;

  [[nodiscard]] const ChangeEncoder& encoder() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vil::output
