#pragma once
// Incremental snapshots while streaming (docs/DESIGN.md §6.9), the DBLog way.
//
// A request (a transactional logical message, snapshot_request.hpp) queues
// tables. Each is read in chunks of its unique key's order: this class writes
// a low watermark, reads the chunk's rows with an ordinary SELECT, and writes
// a high watermark (both our own transactional logical messages). The
// delivery thread, reading the stream, tells it what lies between the two:
// a change of the chunk's table there wins over the chunk's row with the same
// key (the stream's is newer, or at least as new), so at the high watermark
// only the other rows are delivered, as Read changes. No lock, no long-held
// snapshot; the stream goes on between chunks. The progress (the last key
// delivered) is kept in the state file after each chunk.
//
// Every call comes from the delivery thread. The watermarks and the chunk
// are written and read synchronously on a connection of its own, so a
// chunk's rows are in memory before the stream can bring its low watermark.

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "libpq_text.hpp"
#include "publication_tables.hpp"
#include "snapshot_counters.hpp"
#include "snapshot_reader.hpp"
#include "snapshot_state.hpp"
#include "vil/cdc/cdc_config.hpp"
#include "vil/pgoutput/tuple.hpp"

namespace vil::cdc {

class IncrementalSnapshot {
 public:
  using Notice = std::function<void(const std::string&)>;
  // What a table's start and end are told to (docs/DESIGN.md §2.4).
  using TableEvent = std::function<void(const SnapshotTable&, bool started, uint64_t rows)>;

  // `on_table` is told each table's start (when it is listed) and end; the
  // figures of `counters` (tables, estimates, reading) are kept up to date.
  IncrementalSnapshot(const CdcConfig& config, Notice notice, TableEvent on_table,
                      SnapshotCounters& counters);
  ~IncrementalSnapshot();
  IncrementalSnapshot(const IncrementalSnapshot&) = delete;
  IncrementalSnapshot& operator=(const IncrementalSnapshot&) = delete;

  // Reads the progress an earlier run kept (CdcConfig::snapshot_state). The
  // error is a sentence naming the file.
  std::expected<void, std::string> load();

  // An initial snapshot begins (docs/DESIGN.md §6.10): what it reads is kept
  // as block ranges left, so that a run cut short is finished by the next,
  // as an incremental snapshot. Replaces whatever was queued: it reads
  // everything.
  void begin_initial(const std::vector<SnapshotTable>& tables,
                     const std::vector<SnapshotUnit>& units);
  // Every row of `unit` was delivered and flushed.
  void initial_unit_done(const SnapshotTable& table, const SnapshotUnit& unit);

  // A request whose transaction committed at `commit_lsn`. One for another
  // publication, or one already taken before a restart, is ignored.
  void requested(std::span<const std::byte> content, uint64_t commit_lsn);

  // When tables remain and no chunk is in flight: writes the low watermark,
  // reads the next chunk and writes the high watermark. A failure is told as
  // a notice and tried again on a later call, a few seconds on; a table that
  // cannot be read (dropped, left the publication) is given up with a notice.
  void start_chunk();

  enum class Mark : uint8_t { Other, Low, High };
  // What a watermark message means to this run: Other for another slot's,
  // another run's, or an old chunk's.
  Mark watermark(std::span<const std::byte> content);

  // A transaction begins in the stream. One the chunk's SELECT did not see
  // (running as its snapshot was taken) is tracked wherever it commits: its
  // commit may come before the low watermark and still be unseen, since a
  // commit becomes visible a moment after its WAL record is written.
  void transaction_began(uint32_t xid);
  // Whether changes of `relation_id` must be told to changed() now.
  [[nodiscard]] bool tracking(uint32_t relation_id) const {
    return (chunk_.tracking || unseen_transaction_) && chunk_.in_flight &&
           relation_id == chunk_.table_id && chunk_.keyed;
  }
  // A change between the chunk's watermarks: its keys (the old row's and the
  // new row's) win over the chunk's rows.
  void changed(const pgoutput::RelationSchema& relation, const pgoutput::TupleView* old_tuple,
               const pgoutput::TupleView* new_tuple);
  // A TRUNCATE between the watermarks: no row of the chunk is delivered.
  void truncated(uint32_t relation_id);

  struct Row {
    const SnapshotTable* table;
    pgoutput::TupleView tuple;  // valid until deliver returns
  };
  // At the high watermark: the chunk's rows no change won over, in key
  // order. Returns false when deliver did (a stop).
  bool deliver_chunk(const std::function<bool(const Row&)>& deliver);
  // Every row deliver_chunk() gave was delivered and flushed: the progress
  // is kept and the next chunk may start.
  void chunk_delivered();

  [[nodiscard]] bool has_work() const { return !state_.incremental.empty(); }
  // The table being read, when a chunk is in flight.
  [[nodiscard]] const SnapshotTable* table() const;

 private:
  struct Chunk {
    bool in_flight = false;
    bool tracking = false;  // between the low and the high watermark
    bool high_seen = false;
    uint64_t number = 0;
    uint32_t table_id = 0;
    std::vector<std::byte> bytes;       // the rows as pgoutput Insert messages
    std::vector<uint32_t> ends;         // where each row's message ends
    std::vector<std::string> keys;      // each row's key (encode_key)
    std::vector<std::string> last_key;  // the last row's key values: where the next starts
    bool table_done = false;            // fewer rows than asked for came
    bool keyed = true;                  // a table without a key is delivered as read
    bool by_blocks = false;
    std::optional<uint64_t> to_block;  // by blocks: where the chunk ended (none: the end)
    bool truncated = false;            // the table was truncated in between: no row is delivered
    bool read_again = false;           // a change's key could not be told: read the chunk again
    // The SELECT's snapshot: transactions it saw as running (32-bit xids,
    // as the stream's Begin carries them).
    uint32_t snapshot_xmax = 0;
    std::unordered_set<uint32_t> snapshot_running;
    std::unordered_set<std::string> changed_keys;
  };

  std::expected<void, std::string> connect();
  // The front table of the queue, listed; nullopt once it was given up.
  bool prepare_table();
  void give_up_table(const std::string& why);
  std::expected<void, std::string> read_chunk();
  // Keeps what pg_current_snapshot()'s text says was running.
  void read_running(std::string_view snapshot);
  std::expected<void, std::string> write_watermark(std::string_view kind);
  void save();
  void fail(const std::string& why);

  const CdcConfig& config_;
  Notice notice_;
  TableEvent on_table_;
  SnapshotCounters& counters_;
  SnapshotState state_;
  PqConnection conn_;
  std::optional<SnapshotTable> table_;  // the front of the queue, as listed
  uint64_t nonce_;                      // this run's: older runs' watermarks are not ours
  uint64_t chunk_numbers_ = 0;
  Chunk chunk_;
  std::chrono::steady_clock::time_point retry_at_{};
  bool unseen_transaction_ = false;  // the one being delivered
};

}  // namespace vil::cdc
