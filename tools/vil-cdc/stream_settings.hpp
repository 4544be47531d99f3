#pragma once
// The settings of `vil-cdc stream`: the command-line flags, the YAML file
// (`--config`, its `cdc:` block and an `output:` block), and how they merge:
// a flag given on the command line overrides the file.

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "vil/cdc/cdc_config.hpp"
#include "vil/log/format.hpp"
#include "vil/output/change_encoder.hpp"
#include "vil/pgoutput/lsn.hpp"

namespace vil::cli {

struct StreamSettings {
  cdc::CdcConfig cdc;
  output::Format format = output::Format::JsonLines;
  std::string output = "-";  // "-" is stdout; a file is appended to
  // file (output), http (http_url), kafka (kafka_brokers) or nats (nats_url)
  std::string sink = "file";
  std::string http_url;
  uint64_t http_batch_bytes = 1u << 20;
  std::string kafka_brokers;
  std::vector<std::pair<std::string, std::string>> kafka_properties;  // name, value
  std::string nats_url;
  std::string nats_stream;
  std::string topic_prefix;       // a broker's "P.schema.table"; resolve() makes it the slot's name
  bool tombstones = true;         // Kafka: a null-valued message after each delete
  bool debezium_schemas = false;  // --format debezium with Kafka Connect's schema blocks
  bool fsync = false;             // fdatasync a file before confirming
  std::optional<pgoutput::Lsn> end_lsn;
  uint64_t max_events = 0;  // 0: no limit
  bool quiet = false;       // no progress line, no notices
  std::string log = "off";  // mq_log records: off, stderr, or a file path
  std::optional<log::LogFormat> log_format;
  std::string metrics_addr;  // HOST:PORT serving /metrics and /healthz; empty: none
  // /healthz turns 503 once the destination has held the trigger back this long.
  uint64_t health_max_backpressure_ms = 60'000;
};

// Registers the flags on a subcommand and resolves them after parsing.
class StreamOptions {
 public:
  void add_to(CLI::App& command);
  // The merged, validated settings, or a one-line configuration error.
  std::expected<StreamSettings, std::string> resolve() const;

 private:
  // Raw flag values; whether each was given is asked of its CLI::Option.
  std::string config_path_;
  std::string conn_, slot_, publication_, create_publication_, format_, output_, end_lsn_, log_,
      log_format_, snapshot_, snapshot_state_, sink_, http_url_, kafka_brokers_, nats_url_,
      nats_stream_, topic_prefix_, metrics_addr_, streaming_, spill_dir_;
  std::vector<std::string> kafka_properties_;
  bool create_slot_ = false, temporary_slot_ = false, failover_ = false, fsync_ = false,
       quiet_ = false, no_messages_ = false, tombstones_ = true, debezium_schemas_ = false;
  uint32_t protocol_version_ = 0, reconnect_max_attempts_ = 0, snapshot_workers_ = 1,
           snapshot_chunk_size_ = 4096, snapshot_unit_blocks_ = 4096;
  int64_t slot_check_interval_ms_ = 2'000;
  int64_t status_interval_ms_ = 10'000, reconnect_initial_ms_ = 500, reconnect_max_ms_ = 30'000;
  uint64_t max_events_ = 0, http_batch_bytes_ = 1u << 20, health_max_backpressure_ms_ = 60'000,
           streaming_memory_bytes_ = 16ull << 20;
  CLI::App* command_ = nullptr;
};

// A message that starts with a setting's YAML key ("cdc.failover: ...") with
// its flag named first ("--failover (cdc.failover): ..."), for a person at
// the command line; any other message as it is.
std::string flag_named(const std::string& message);

}  // namespace vil::cli
