#pragma once
// The progress of incremental snapshots, kept across runs in a small JSON
// file (CdcConfig::snapshot_state): the tables still to read, where the one
// being read stands (the last key delivered), and the last request taken
// from the stream, so that a request the server sends again after a restart
// is not taken twice. Written whole to a temporary file, synced and renamed
// over the old one, so a crash leaves either the old progress or the new.

#include <cstdint>
#include <deque>
#include <expected>
#include <optional>
#include <string>
#include <vector>

namespace vil::cdc {

// Heap blocks [from, to) of a table; no `to`: to its end.
struct BlockRange {
  uint64_t from = 0;
  std::optional<uint64_t> to;

  friend bool operator==(const BlockRange&, const BlockRange&) = default;
};

// One table an incremental snapshot reads: by key (the chunk key's order)
// or, for what an initial snapshot did not read before it was cut short, by
// the heap block ranges it had left (docs/DESIGN.md §6.10).
struct IncrementalTable {
  std::string schema;
  std::string name;
  // By key: the chunk key's values (text) of the last row delivered; empty:
  // from the start.
  std::vector<std::string> after;
  // By blocks: the ranges left, in order. Valid only while the table keeps
  // `relfilenode` (a rewrite moves every row to other blocks).
  bool by_blocks = false;
  std::vector<BlockRange> ranges;
  uint64_t relfilenode = 0;
  uint64_t rows_read = 0;  // delivered so far, for the progress line

  friend bool operator==(const IncrementalTable&, const IncrementalTable&) = default;
};

struct SnapshotState {
  std::string slot;
  std::string publication;
  // Requests that committed at or before this LSN were taken.
  uint64_t last_request_lsn = 0;
  std::deque<IncrementalTable> incremental;  // the front one is being read

  friend bool operator==(const SnapshotState&, const SnapshotState&) = default;
};

// Whether `state` holds block ranges an initial snapshot did not read
// before it was cut short.
[[nodiscard]] bool initial_snapshot_unfinished(const SnapshotState& state);

// The state at `path`; an empty state for the slot when the file does not
// exist. The error is a sentence naming the file: it cannot be read, is not
// a state file, or belongs to another slot or publication.
std::expected<SnapshotState, std::string> load_snapshot_state(const std::string& path,
                                                              const std::string& slot,
                                                              const std::string& publication);

// Replaces the file at `path` (creating its directory) with `state`.
std::expected<void, std::string> save_snapshot_state(const std::string& path,
                                                     const SnapshotState& state);

}  // namespace vil::cdc
