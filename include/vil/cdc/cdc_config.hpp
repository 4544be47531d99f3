#pragma once
// CdcConfig: what a CDC trigger connects to and how it behaves. Every option,
// its YAML key and its default are listed once in docs/CONFIGURATION.md.

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vil::cdc {

// Which tables a publication created by the trigger covers.
struct PublicationScope {
  bool all_tables = true;
  std::vector<std::string> tables;  // "table" or "schema.table" when !all_tables
};

struct ReconnectPolicy {
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
  uint32_t max_attempts = 0;  // consecutive failed attempts before giving up; 0 = never give up
};

// Whether the rows that exist before streaming begins are delivered too, as
// Read changes (docs/DESIGN.md §6.8).
enum class SnapshotMode : uint8_t {
  Never,    // stream only: what changes after the slot's position
  Initial,  // when the trigger creates the slot: every row of the publication's
            // tables as of the slot's creation, then the stream from there
  Only,     // every row as of now, then return; no slot is used
};

// Whether the server streams transactions larger than its
// logical_decoding_work_mem while they are still in progress, instead of
// spilling them to its own disk and sending them at commit (docs/DESIGN.md
// §6.11). The trigger keeps what is streamed and still delivers each
// transaction whole at its commit; only the server's work changes.
enum class Streaming : uint8_t {
  Off,       // the server spills a large transaction and sends it at commit
  On,        // pgoutput `streaming 'on'` (protocol 2+, PostgreSQL 14+)
  Parallel,  // `streaming 'parallel'` (protocol 4, PostgreSQL 16+): the same
             // messages, each Stream Abort with its LSN and time
};

// "never", "initial", "only".
std::string_view to_string(SnapshotMode mode) noexcept;
// The inverse; nullopt for any other text.
std::optional<SnapshotMode> parse_snapshot_mode(std::string_view text) noexcept;
// "off", "on", "parallel", and the inverse.
std::string_view to_string(Streaming streaming) noexcept;
std::optional<Streaming> parse_streaming(std::string_view text) noexcept;

struct CdcConfig {
  // The VIL `cdc:` block.
  std::string conn_string;  // libpq key/value or URI; password never logged
  std::string slot_name;
  std::string publication;

  // This project's options.
  bool create_slot = false;     // create the slot when it does not exist
  bool temporary_slot = false;  // with create_slot: a slot dropped when the session ends
  // A failover slot (PostgreSQL 17+): created with FAILOVER, or an existing
  // slot turned to it, so that standbys with sync_replication_slots keep a
  // copy a promoted standby streams on from; the slot check then says
  // whether the standbys of a multi-host conn_string hold a ready copy.
  bool failover = false;
  bool create_publication = false;
  PublicationScope publication_scope;  // what a created publication covers
  uint32_t protocol_version = 0;       // pgoutput proto_version; 0 = highest both sides support
  bool messages = true;                // deliver pg_logical_emit_message messages
  std::chrono::milliseconds status_interval{10'000};  // standby status update period
  // How often a connection of its own asks the server for its end of WAL and
  // the slot's wal_status and safe_wal_size (TriggerMetrics, the warning
  // when the slot turns unreserved); 0: never, and no such connection.
  std::chrono::milliseconds slot_check_interval{2'000};
  ReconnectPolicy reconnect;
  // On by default: measured here, a transaction larger than the server's
  // logical_decoding_work_mem came whole sooner after its commit, and cost
  // the walsender less, than spilled by the server and read back
  // (results/large_transactions.md). It moves the spill off the server's
  // disk, to spill_dir.
  Streaming streaming = Streaming::On;
  // What streamed transactions still open keep in memory together, at most
  // (64 KiB..16 GiB); past it the largest goes on in a spill file.
  uint64_t streaming_memory_bytes = 16ull << 20;
  // Where spill files are made (created when missing); empty: the system's
  // temporary folder ($TMPDIR, else /tmp). They have no name there, so that
  // nothing outlives the process.
  std::string spill_dir;
  std::string application_name = "vil-cdc";
  SnapshotMode snapshot = SnapshotMode::Never;
  uint32_t snapshot_workers = 1;  // connections reading the snapshot at once (1..64)
  // A table of more heap blocks (8 KiB each) than this is read in ranges of
  // this many (1..1048576): what the workers share, and what a snapshot cut
  // short reads again at most per worker.
  uint32_t snapshot_unit_blocks = 4096;
  // Rows an incremental snapshot reads between one pair of watermarks
  // (1..1000000): what it holds in memory at once.
  uint32_t snapshot_chunk_size = 4096;
  // Where the progress of incremental snapshots is kept across runs (a JSON
  // file written atomically after each chunk); empty: kept in memory only,
  // so a snapshot cut short by a restart is not finished by the next run.
  std::string snapshot_state;
  // An AsyncChangeSink's changes waiting for acknowledgement, at most: so
  // many (1..10000000), and so many bytes of their rows (1 KiB..16 GiB).
  uint32_t max_in_flight = 10'000;
  uint64_t max_in_flight_bytes = 64ull << 20;
  // One mq_log record per row change (docs/DESIGN.md §2.4). Off by default:
  // the records go to the process-wide logger, whose rings are made at its
  // first use, so an owner who drains no log pays nothing for them.
  bool log_changes = false;
};

// A configuration that cannot be used. `message` is whole on its own and
// starts with the field it is about ("cdc.slot_name: is required"); `field`
// is that name again for programs ("cdc.slot_name"; empty for the file as a
// whole, such as a YAML syntax error).
struct ConfigError {
  std::string field;
  std::string message;
};

// How much a parse checks: everything, or only what the text says (a
// command line fills in the rest, then calls validate()).
enum class ConfigCheck { Complete, AsWritten };

// Parses the YAML form (a document with a `cdc:` block; other top-level
// blocks are left to their owners).
std::expected<CdcConfig, ConfigError> parse_cdc_config_yaml(
    std::string_view yaml, ConfigCheck check = ConfigCheck::Complete);

// Checks required fields and names; the trigger calls this before connecting.
std::expected<void, ConfigError> validate(const CdcConfig& config);

// `all` (every table) or a comma-separated list of `table` / `schema.table`,
// each name trimmed of spaces and tabs, empty items dropped; the YAML string
// form and --create-publication both read it this way. An empty list means
// the text named no table.
PublicationScope parse_publication_scope(std::string_view text);

// A replication slot name as PostgreSQL accepts it: 1..63 of [a-z0-9_].
bool is_valid_slot_name(std::string_view name);

// The connection string with any password replaced by "********", for messages.
std::string redact_conn_string(std::string_view conn_string);

}  // namespace vil::cdc
