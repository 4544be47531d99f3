#include "prometheus_text.hpp"

#include <array>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

#include "vil/output/change_encoder.hpp"

namespace vil::cli {

namespace {

// A label value as the format wants it: \, " and newline escaped.
std::string label_value(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(text_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                   type);
  }
  // A count (uint64_t) or a measure (double), each printed exactly.
  template <typename T>
  void sample(std::string_view name, std::string_view labels, T value) {
    if (labels.empty()) {
      fmt::format_to(std::back_inserter(text_), "{} {}\n", name, value);
    } else {
      fmt::format_to(std::back_inserter(text_), "{}{{{}}} {}\n", name, labels, value);
    }
  }
  // One family of one sample.
  template <typename T>
  void one(std::string_view name, std::string_view type, std::string_view help, T value) {
    family(name, type, help);
    sample(name, "", value);
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

constexpr std::array<cdc::ChangeKind, 6> kKinds{cdc::ChangeKind::Insert,  cdc::ChangeKind::Update,
                                                cdc::ChangeKind::Delete,  cdc::ChangeKind::Truncate,
                                                cdc::ChangeKind::Message, cdc::ChangeKind::Read};
constexpr std::array<std::string_view, 4> kWalStatuses{"reserved", "extended", "unreserved",
                                                       "lost"};

}  // namespace

std::string prometheus_text(const cdc::TriggerMetrics& m, const MetricsLabels& labels) {
  Exposition out;
  const std::string slot = fmt::format("slot=\"{}\"", label_value(labels.slot_name));

  out.family("vil_cdc_build_info", "gauge", "The running vil-cdc's version; always 1.");
  out.sample("vil_cdc_build_info",
             fmt::format("version=\"{}\",{}", label_value(output::library_version()), slot),
             uint64_t{1});

  out.family("vil_cdc_changes_total", "counter",
             "Changes handed to the destination, by operation (read: snapshot rows).");
  for (const cdc::ChangeKind kind : kKinds) {
    out.sample("vil_cdc_changes_total", fmt::format("op=\"{}\"", cdc::to_string(kind)),
               m.changes_of(kind));
  }
  out.one("vil_cdc_transactions_total", "counter", "Transactions delivered.", m.transactions);
  out.one("vil_cdc_received_bytes_total", "counter",
          "Bytes of WAL data (XLogData frames) received from the server.", m.received_bytes);
  out.one("vil_cdc_confirmed_lsn", "gauge",
          "The position last confirmed to the server (flush LSN), as a number.",
          m.confirmed_lsn.value);
  out.one("vil_cdc_server_wal_lsn", "gauge", "The server's end of WAL, as a number.",
          m.server_wal_lsn.value);
  out.one("vil_cdc_lag_bytes", "gauge",
          "Bytes of WAL between the server's end and the confirmed position.", m.lag_bytes);
  out.one("vil_cdc_lag_seconds", "gauge",
          "Seconds since the commit of the last delivered transaction; 0 when caught up.",
          m.lag_seconds);
  out.one("vil_cdc_last_commit_timestamp_seconds", "gauge",
          "Commit time of the last delivered transaction, in Unix seconds; 0 before one.",
          static_cast<double>(m.last_commit_unix_ns) / 1e9);
  out.one("vil_cdc_connected", "gauge", "1 while streaming from the slot, else 0.",
          uint64_t{m.connected ? 1u : 0u});
  out.one("vil_cdc_paused", "gauge", "1 while paused by the owner, else 0.",
          uint64_t{m.paused ? 1u : 0u});
  out.one("vil_cdc_reconnects_total", "counter",
          "Times the stream was lost and vil-cdc reconnected (or tried to).", m.reconnects);
  out.one("vil_cdc_status_updates_total", "counter", "Standby status updates sent to the server.",
          m.status_updates);

  if (labels.broker_sink) {
    out.one("vil_cdc_sink_inflight_messages", "gauge",
            "Messages sent to the destination and not yet acknowledged.", m.sink_in_flight);
    out.one("vil_cdc_sink_acknowledged_messages_total", "counter",
            "Messages the destination acknowledged.", m.sink_acknowledged);
    out.one("vil_cdc_sink_failures_total", "counter",
            "Deliveries the destination refused or that failed for good.", m.sink_failures);
    out.one("vil_cdc_sink_backpressure_seconds", "gauge",
            "Seconds the in-flight window has been full (reading from the server held back); "
            "0 while it has room.",
            m.sink_backpressure_seconds);
  }

  out.one("vil_cdc_snapshot_running", "gauge", "1 while a snapshot is being read, else 0.",
          uint64_t{m.snapshot.reading ? 1u : 0u});
  out.one("vil_cdc_snapshot_rows_total", "counter", "Rows read by snapshots.", m.snapshot.rows);
  out.one("vil_cdc_snapshot_tables_remaining", "gauge",
          "Tables asked for whose rows were not all read yet.",
          uint64_t{m.snapshot.tables - m.snapshot.tables_done});

  out.one("vil_cdc_streamed_transactions_open", "gauge",
          "Transactions the server is streaming while in progress, kept until they end.",
          m.streamed.open);
  out.family("vil_cdc_streamed_transactions_total", "counter",
             "Streamed transactions that ended, by outcome (committed: delivered whole).");
  out.sample("vil_cdc_streamed_transactions_total", "outcome=\"committed\"", m.streamed.committed);
  out.sample("vil_cdc_streamed_transactions_total", "outcome=\"aborted\"", m.streamed.aborted);
  out.one("vil_cdc_streamed_spill_bytes_total", "counter",
          "Bytes of streamed transactions written to spill files (past streaming_memory_bytes).",
          m.streamed.spilled_bytes);

  out.family("vil_cdc_slot_wal_status", "gauge",
             "1 for the slot's wal_status as the server last reported it, 0 for the others "
             "(all 0 while unknown).");
  for (const std::string_view status : kWalStatuses) {
    out.sample("vil_cdc_slot_wal_status", fmt::format("{},status=\"{}\"", slot, status),
               uint64_t{m.slot.wal_status == status ? 1u : 0u});
  }
  if (m.slot.safe_wal_size) {
    out.family("vil_cdc_slot_safe_wal_size_bytes", "gauge",
               "Bytes of WAL that can still be written before the slot is in danger of being "
               "invalidated (max_slot_wal_keep_size).");
    out.sample("vil_cdc_slot_safe_wal_size_bytes", slot,
               static_cast<double>(*m.slot.safe_wal_size));
  }
  // Failover slots: one sample per standby that answered (none before).
  if (m.failover && !m.failover_standbys.empty()) {
    out.family("vil_cdc_slot_failover_ready", "gauge",
               "1 when the standby holds a synchronized copy of the slot, so that a failover "
               "there keeps it; else 0.");
    for (const cdc::StandbySlotCopy& copy : m.failover_standbys) {
      out.sample("vil_cdc_slot_failover_ready",
                 fmt::format("{},standby=\"{}\"", slot, label_value(copy.standby)),
                 uint64_t{copy.ready ? 1u : 0u});
    }
  }
  return out.take();
}

}  // namespace vil::cli
