#pragma once
// KafkaSink: changes produced to Kafka, one topic per table, each confirmed to
// the server only once the brokers acknowledged it (acks=all;
// docs/DESIGN.md §3.1, §4.5).
//
// A row change goes to its table's topic (broker_names.hpp) with the row's
// replica-identity columns as its key (ChangeEncoder::encode_key), its line
// as the value, and headers vil.commit_lsn and vil.seq (change_key's two
// parts). A delete with a key is followed by a tombstone (same key, null
// value) unless `tombstones` is off. The producer is idempotent, so a retry
// neither duplicates nor reorders within a partition; keys are hashed as
// Java clients hash them (murmur2), so a key keeps its partition whichever
// client wrote it. Messages wait in the producer while the brokers are away
// (message.timeout.ms 0: for ever); the trigger's in-flight bound stops the
// stream meanwhile.

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vil/cdc/change.hpp"
#include "vil/output/change_encoder.hpp"

namespace vil::output {

struct KafkaSinkOptions {
  std::string brokers;       // bootstrap.servers: HOST:PORT[,...]
  std::string topic_prefix;  // P of "P.schema.table"
  bool tombstones = true;    // a null-valued message after each delete with a key
  // librdkafka properties (name, value), applied after the defaults above, so
  // any of them can be changed. A value is never shown.
  std::vector<std::pair<std::string, std::string>> properties;
  std::chrono::milliseconds check_timeout{10'000};  // check()'s wait for the brokers
  std::chrono::milliseconds drain_timeout{10'000};  // the run's end waits at most this
  // The client's warnings and errors (a broker down, a reconnect), from its
  // own threads; none when empty.
  std::function<void(const std::string&)> on_notice;
};

class KafkaSink final : public cdc::AsyncChangeSink {
 public:
  KafkaSink(KafkaSinkOptions options, ChangeEncoder encoder);
  ~KafkaSink() override;
  KafkaSink(const KafkaSink&) = delete;
  KafkaSink& operator=(const KafkaSink&) = delete;

  // Makes the producer. An unknown property or a value it refuses is an
  // error that names the property (never its value).
  [[nodiscard]] std::expected<void, std::string> configure();
  // Whether the brokers answer now (a metadata request): for a clear error
  // before streaming starts, naming the brokers and the cause.
  [[nodiscard]] std::expected<void, std::string> check() const;

  void bind(cdc::DeliveryAcks& acks) override;
  void on_change(const cdc::Change& change) override;
  void drain() override;

  [[nodiscard]] const ChangeEncoder& encoder() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vil::output
