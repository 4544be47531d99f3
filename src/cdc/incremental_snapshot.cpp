#include "incremental_snapshot.hpp"

#include <cstring>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "snapshot_connection.hpp"
#include "vil/cdc/snapshot_request.hpp"
#include "vil/pgoutput/byte_order.hpp"
#include "vil/pgoutput/messages.hpp"

namespace vil::cdc {

namespace {

// After a failed chunk (the server away, say), the next try waits this long.
constexpr std::chrono::seconds kRetryAfter{5};

// A key as compared between the chunk and the stream: each column's length
// (or ~0 for NULL) and its text.
void append_key_column(std::string& key, const char* text, size_t length, bool null) {
  const uint32_t size = null ? ~uint32_t{0} : static_cast<uint32_t>(length);
  std::byte prefix[4];
  pgoutput::store_be<uint32_t>(prefix, size);
  key.append(reinterpret_cast<const char*>(prefix), sizeof prefix);
  if (!null) key.append(text, length);
}

std::string_view text_of(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

IncrementalSnapshot::IncrementalSnapshot(const CdcConfig& config, Notice notice,
                                         TableEvent on_table, SnapshotCounters& counters)
    : config_(config),
      notice_(std::move(notice)),
      on_table_(std::move(on_table)),
      counters_(counters),
      nonce_(std::random_device{}() * 0x100000000ULL + std::random_device{}()) {
  state_.slot = config.slot_name;
  state_.publication = config.publication;
}

IncrementalSnapshot::~IncrementalSnapshot() = default;

std::expected<void, std::string> IncrementalSnapshot::load() {
  if (config_.snapshot_state.empty()) return {};
  auto loaded = load_snapshot_state(config_.snapshot_state, config_.slot_name, config_.publication);
  if (!loaded) return std::unexpected(loaded.error());
  state_ = std::move(*loaded);
  counters_.add_tables(static_cast<uint32_t>(state_.incremental.size()), 0);
  counters_.reading.store(has_work());
  return {};
}

const SnapshotTable* IncrementalSnapshot::table() const {
  return chunk_.in_flight && table_ ? &*table_ : nullptr;
}

void IncrementalSnapshot::save() {
  if (config_.snapshot_state.empty()) return;
  if (auto saved = save_snapshot_state(config_.snapshot_state, state_); !saved && notice_) {
    notice_(saved.error() + " (a restart would read the incremental snapshot's last chunks again)");
  }
}

void IncrementalSnapshot::begin_initial(const std::vector<SnapshotTable>& tables,
                                        const std::vector<SnapshotUnit>& units) {
  state_.incremental.clear();
  for (size_t t = 0; t < tables.size(); ++t) {
    const SnapshotTable& table = tables[t];
    IncrementalTable entry;
    entry.schema = table.schema.namespace_name;
    entry.name = table.schema.name;
    // A partitioned root has no blocks of its own: it is finished by key.
    entry.by_blocks = !table.partitioned;
    entry.relfilenode = table.relfilenode;
    if (entry.by_blocks) {
      for (const SnapshotUnit& unit : units) {
        if (unit.table == t)
          entry.ranges.push_back(BlockRange{unit.from_block.value_or(0), unit.to_block});
      }
    }
    state_.incremental.push_back(std::move(entry));
  }
  save();
}

void IncrementalSnapshot::initial_unit_done(const SnapshotTable& table, const SnapshotUnit& unit) {
  for (auto it = state_.incremental.begin(); it != state_.incremental.end(); ++it) {
    if (it->schema != table.schema.namespace_name || it->name != table.schema.name) continue;
    const uint64_t from = unit.from_block.value_or(0);
    std::erase_if(it->ranges, [&](const BlockRange& r) { return r.from == from; });
    if (it->ranges.empty()) state_.incremental.erase(it);
    save();
    return;
  }
}

void IncrementalSnapshot::requested(std::span<const std::byte> content, uint64_t commit_lsn) {
  if (commit_lsn <= state_.last_request_lsn) return;  // taken before a restart
  std::vector<IncrementalTable> tables;
  try {
    const nlohmann::json request = nlohmann::json::parse(text_of(content));
    if (request.at("publication").get<std::string>() != config_.publication) return;
    for (const auto& t : request.at("tables")) {
      IncrementalTable table;
      table.schema = t.at("schema").get<std::string>();
      table.name = t.at("table").get<std::string>();
      tables.push_back(std::move(table));
    }
  } catch (const nlohmann::json::exception& e) {
    if (notice_)
      notice_(fmt::format("a snapshot request that is not valid was ignored: {}", e.what()));
    return;
  }
  state_.last_request_lsn = commit_lsn;
  counters_.add_tables(static_cast<uint32_t>(tables.size()), 0);
  counters_.reading.store(true);
  std::string names;
  for (IncrementalTable& table : tables) {
    names += fmt::format("{}{}.{}", names.empty() ? "" : ", ", table.schema, table.name);
    state_.incremental.push_back(std::move(table));
  }
  save();
  if (notice_) notice_(fmt::format("incremental snapshot of {} requested", names));
}

std::expected<void, std::string> IncrementalSnapshot::connect() {
  if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return {};
  auto conn = connect_for_snapshot(config_.conn_string, "vil-cdc incremental snapshot",
                                   "to read an incremental snapshot");
  if (!conn) return std::unexpected(conn.error());
  // A watermark's commit reaches the stream at once; no synchronous standby
  // is waited for.
  if (auto r =
          run_command(conn->get(), "SET synchronous_commit = local", "setting synchronous_commit");
      !r) {
    return std::unexpected(r.error());
  }
  conn_ = std::move(*conn);
  return {};
}

void IncrementalSnapshot::give_up_table(const std::string& why) {
  if (notice_) notice_(fmt::format("incremental snapshot: {}; the table is skipped", why));
  state_.incremental.pop_front();
  table_.reset();
  counters_.tables_done.fetch_add(1, std::memory_order_relaxed);
  counters_.reading.store(has_work());
  save();
}

bool IncrementalSnapshot::prepare_table() {
  while (!state_.incremental.empty()) {
    IncrementalTable& wanted = state_.incremental.front();
    if (table_ && table_->schema.namespace_name == wanted.schema &&
        table_->schema.name == wanted.name) {
      return true;
    }
    table_.reset();
    auto tables = list_publication_tables(conn_.get(), config_.publication);
    if (!tables) {
      fail(tables.error());
      return false;
    }
    const std::string name = fmt::format("{}.{}", wanted.schema, wanted.name);
    for (SnapshotTable& t : *tables) {
      if (t.schema.namespace_name == wanted.schema && t.schema.name == wanted.name) {
        table_ = std::move(t);
        break;
      }
    }
    if (table_ && wanted.by_blocks && table_->relfilenode != wanted.relfilenode) {
      // Rewritten (VACUUM FULL, CLUSTER, ALTER TABLE): its rows are in other
      // blocks now, so the ranges left mean nothing. Read again whole.
      if (notice_) {
        notice_(
            fmt::format("table {} was rewritten since its snapshot began: reading it whole", name));
      }
      wanted.ranges.assign(1, BlockRange{0, std::nullopt});
      wanted.relfilenode = table_->relfilenode;
      if (table_->key_problem.empty()) {
        wanted.by_blocks = false;
        wanted.ranges.clear();
      }
      save();
    }
    if (!table_) {
      give_up_table(
          fmt::format("table {} is not in publication \"{}\"", name, config_.publication));
    } else if (!wanted.by_blocks && !table_->key_problem.empty()) {
      give_up_table(table_->key_problem);
    } else if (wanted.by_blocks && table_->partitioned) {
      give_up_table(fmt::format("table {} is partitioned now: its blocks cannot be read", name));
    } else {
      counters_.add_estimate(table_->reltuples - static_cast<double>(wanted.rows_read));
      if (wanted.after.empty() && wanted.rows_read == 0 && on_table_) {
        on_table_(*table_, /*started=*/true, 0);
      }
      return true;
    }
  }
  return false;
}

void IncrementalSnapshot::fail(const std::string& why) {
  if (notice_) {
    notice_(
        fmt::format("incremental snapshot: {} (trying again in {} s)", why, kRetryAfter.count()));
  }
  chunk_ = Chunk{};
  retry_at_ = std::chrono::steady_clock::now() + kRetryAfter;
}

void IncrementalSnapshot::start_chunk() {
  if (chunk_.in_flight || state_.incremental.empty()) return;
  if (std::chrono::steady_clock::now() < retry_at_) return;
  if (auto connected = connect(); !connected) {
    fail(connected.error());
    return;
  }
  if (!prepare_table()) return;
  chunk_ = Chunk{};
  chunk_.number = ++chunk_numbers_;
  chunk_.table_id = table_->schema.id;
  if (auto r = write_watermark("low"); !r) {
    fail(r.error());
    return;
  }
  if (auto r = read_chunk(); !r) {
    PqResult ended(PQexec(conn_.get(), "ROLLBACK"));  // whatever it says
    if (PQstatus(conn_.get()) == CONNECTION_OK) {
      give_up_table(r.error());
      chunk_ = Chunk{};
    } else {
      fail(r.error());
    }
    return;
  }
  if (auto r = write_watermark("high"); !r) {
    fail(r.error());
    return;
  }
  chunk_.in_flight = true;
}

std::expected<void, std::string> IncrementalSnapshot::write_watermark(std::string_view kind) {
  const std::string prefix(kWatermarkPrefix);
  const std::string content =
      fmt::format("{} {} {:016x} {}", kind, config_.slot_name, nonce_, chunk_.number);
  const char* params[] = {prefix.c_str(), content.c_str()};
  // Transactional: its commit is flushed, so the stream brings it at once.
  PqResult written(PQexecParams(conn_.get(),
                                "SELECT pg_catalog.pg_logical_emit_message(true, $1, $2)", 2,
                                nullptr, params, nullptr, nullptr, 0));
  if (written.status() != PGRES_TUPLES_OK) {
    return std::unexpected(
        fmt::format("writing a watermark: {}", one_line(PQerrorMessage(conn_.get()))));
  }
  return {};
}

std::expected<void, std::string> IncrementalSnapshot::read_chunk() {
  PGconn* c = conn_.get();
  const SnapshotTable& table = *table_;
  const IncrementalTable& progress = state_.incremental.front();
  std::string key_list;
  std::string after_list;
  for (size_t i = 0; i < table.chunk_key.size(); ++i) {
    const std::string separator = i == 0 ? "" : ", ";
    key_list += separator + quote_identifier(c, table.schema.columns[table.chunk_key[i]].name);
    after_list += fmt::format("{}${}::{}", separator, i + 1, table.chunk_key_types[i]);
  }
  std::string where;
  const auto add = [&where](const std::string& condition) {
    where += where.empty() ? " WHERE " : " AND ";
    where += condition;
  };
  chunk_.keyed = !table.chunk_key.empty();
  chunk_.by_blocks = progress.by_blocks;
  std::string order;
  if (progress.by_blocks) {
    // About snapshot_chunk_size rows' worth of blocks, by the table's
    // statistics; the last range, open-ended, to the table's end.
    const BlockRange& range = progress.ranges.front();
    const double per_block = table.pages > 0 && table.reltuples > 0
                                 ? table.reltuples / static_cast<double>(table.pages)
                                 : 64.0;
    const auto blocks = std::max<uint64_t>(
        1, static_cast<uint64_t>(static_cast<double>(config_.snapshot_chunk_size) / per_block));
    const uint64_t to = range.from + blocks;
    chunk_.to_block.reset();
    if (range.to) {
      chunk_.to_block = std::min(to, *range.to);
    } else if (to < table.pages) {
      chunk_.to_block = to;
    }
    if (range.from > 0) add(fmt::format("ctid >= '({},0)'::pg_catalog.tid", range.from));
    if (chunk_.to_block) add(fmt::format("ctid < '({},0)'::pg_catalog.tid", *chunk_.to_block));
  } else {
    if (!progress.after.empty()) add(fmt::format("({}) > ({})", key_list, after_list));
    order = fmt::format(" ORDER BY {} LIMIT {}", key_list, config_.snapshot_chunk_size);
  }
  if (!table.row_filter.empty()) add("(" + table.row_filter + ")");
  const std::string sql =
      fmt::format("SELECT {} FROM {}{}{}", table.select_list, table.from, where, order);
  std::vector<const char*> params;
  if (!progress.by_blocks && !progress.after.empty()) {
    if (progress.after.size() != table.chunk_key.size()) {
      return std::unexpected(fmt::format("the key of table {} changed since its snapshot began",
                                         table.schema.qualified_name));
    }
    for (const std::string& value : progress.after) params.push_back(value.c_str());
  }
  // The snapshot's running transactions are known with the rows: the
  // stream's changes of those win over the chunk wherever they commit.
  if (auto r =
          run_command(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "beginning a chunk");
      !r) {
    return r;
  }
  PqResult snapshot(PQexec(c, "SELECT pg_catalog.pg_current_snapshot()::text"));
  if (snapshot.status() != PGRES_TUPLES_OK || PQntuples(snapshot.get()) != 1) {
    return std::unexpected(
        fmt::format("taking a chunk's snapshot: {}", one_line(PQerrorMessage(c))));
  }
  read_running(PQgetvalue(snapshot.get(), 0, 0));
  PqResult rows(PQexecParams(c, sql.c_str(), static_cast<int>(params.size()), nullptr,
                             params.data(), nullptr, nullptr, 0));
  if (rows.status() != PGRES_TUPLES_OK) {
    return std::unexpected(fmt::format("reading table {}: {}", table.schema.qualified_name,
                                       one_line(PQerrorMessage(c))));
  }
  if (auto r = run_command(c, "COMMIT", "ending a chunk"); !r) return r;
  PGresult* r = rows.get();
  const int count = PQntuples(r);
  const auto columns = static_cast<uint16_t>(PQnfields(r));
  if (columns != table.schema.columns.size()) {
    return std::unexpected(fmt::format("reading table {}: {} columns came, not {}",
                                       table.schema.qualified_name, columns,
                                       table.schema.columns.size()));
  }
  auto& bytes = chunk_.bytes;
  for (int row = 0; row < count; ++row) {
    const size_t start = bytes.size();
    bytes.resize(start + 8);
    bytes[start] = std::byte{'I'};
    pgoutput::store_be<uint32_t>(bytes.data() + start + 1, table.schema.id);
    bytes[start + 5] = std::byte{'N'};
    pgoutput::store_be<uint16_t>(bytes.data() + start + 6, columns);
    for (int column = 0; column < columns; ++column) {
      if (PQgetisnull(r, row, column) != 0) {
        bytes.push_back(std::byte{'n'});
        continue;
      }
      const auto length = static_cast<uint32_t>(PQgetlength(r, row, column));
      const size_t at = bytes.size();
      bytes.resize(at + 5 + length);
      bytes[at] = std::byte{'t'};
      pgoutput::store_be<uint32_t>(bytes.data() + at + 1, length);
      std::memcpy(bytes.data() + at + 5, PQgetvalue(r, row, column), length);
    }
    chunk_.ends.push_back(static_cast<uint32_t>(bytes.size()));
    if (!chunk_.keyed) continue;
    std::string key;
    for (const uint16_t k : table.chunk_key) {
      append_key_column(key, PQgetvalue(r, row, k), static_cast<size_t>(PQgetlength(r, row, k)),
                        PQgetisnull(r, row, k) != 0);
    }
    chunk_.keys.push_back(std::move(key));
  }
  if (count > 0 && !progress.by_blocks) {
    for (const uint16_t k : table.chunk_key)
      chunk_.last_key.emplace_back(PQgetvalue(r, count - 1, k));
  }
  // By key, a short chunk ends the table; by blocks, the ranges left do
  // (chunk_delivered()).
  chunk_.table_done =
      !progress.by_blocks && static_cast<uint32_t>(count) < config_.snapshot_chunk_size;
  return {};
}

void IncrementalSnapshot::read_running(std::string_view snapshot) {
  // xmin:xmax:xip,... with 64-bit transaction ids; the stream's are their low
  // 32 bits.
  const auto xid32 = [](std::string_view text) {
    return static_cast<uint32_t>(std::strtoull(std::string(text).c_str(), nullptr, 10));
  };
  const size_t first = snapshot.find(':');
  const size_t second = snapshot.find(':', first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) {
    chunk_.read_again = true;  // cannot tell what it saw
    return;
  }
  chunk_.snapshot_xmax = xid32(snapshot.substr(first + 1, second - first - 1));
  std::string_view running = snapshot.substr(second + 1);
  while (!running.empty()) {
    const size_t comma = std::min(running.find(','), running.size());
    chunk_.snapshot_running.insert(xid32(running.substr(0, comma)));
    running.remove_prefix(std::min(comma + 1, running.size()));
  }
}

void IncrementalSnapshot::transaction_began(uint32_t xid) {
  // At or after xmax (modulo 2^32, as PostgreSQL compares them): started
  // after the snapshot.
  unseen_transaction_ = chunk_.in_flight && (chunk_.snapshot_running.contains(xid) ||
                                             static_cast<int32_t>(xid - chunk_.snapshot_xmax) >= 0);
}

IncrementalSnapshot::Mark IncrementalSnapshot::watermark(std::span<const std::byte> content) {
  if (!chunk_.in_flight) return Mark::Other;
  const std::string_view text = text_of(content);
  const std::string mine_low =
      fmt::format("low {} {:016x} {}", config_.slot_name, nonce_, chunk_.number);
  const std::string mine_high =
      fmt::format("high {} {:016x} {}", config_.slot_name, nonce_, chunk_.number);
  if (text == mine_low) {
    chunk_.tracking = true;
    return Mark::Low;
  }
  if (text == mine_high) {
    chunk_.tracking = false;
    chunk_.high_seen = true;
    return Mark::High;
  }
  return Mark::Other;
}

void IncrementalSnapshot::changed(const pgoutput::RelationSchema& relation,
                                  const pgoutput::TupleView* old_tuple,
                                  const pgoutput::TupleView* new_tuple) {
  if (!table_) return;
  // The stream's columns are the published ones, as the chunk's; found by
  // name all the same, in case the table was altered in between.
  std::vector<size_t> positions;
  for (const uint16_t k : table_->chunk_key) {
    const std::string& name = table_->schema.columns[k].name;
    size_t p = 0;
    while (p < relation.columns.size() && relation.columns[p].name != name) ++p;
    if (p == relation.columns.size()) {
      // The key cannot be told (the table was altered): the chunk is read
      // again, after the high watermark.
      chunk_.read_again = true;
      return;
    }
    positions.push_back(p);
  }
  const auto record = [&](const pgoutput::TupleView& tuple) {
    std::vector<pgoutput::ColumnValue> values(tuple.begin(), tuple.end());
    std::string key;
    for (const size_t p : positions) {
      if (p >= values.size()) return;
      const pgoutput::ColumnValue& v = values[p];
      if (v.is_unchanged_toast()) return;  // a key is never a TOASTed value left alone
      const std::string_view t = v.text();
      append_key_column(key, t.data(), t.size(), v.is_null());
    }
    chunk_.changed_keys.insert(std::move(key));
  };
  if (old_tuple != nullptr && !old_tuple->empty()) record(*old_tuple);
  if (new_tuple != nullptr && !new_tuple->empty()) record(*new_tuple);
}

void IncrementalSnapshot::truncated(uint32_t relation_id) {
  if (chunk_.tracking && relation_id == chunk_.table_id) chunk_.truncated = true;
}

bool IncrementalSnapshot::deliver_chunk(const std::function<bool(const Row&)>& deliver) {
  if (!chunk_.high_seen || !table_ || chunk_.truncated || chunk_.read_again) return true;
  for (size_t row = 0; row < chunk_.ends.size(); ++row) {
    // A table without a key cannot be matched: its rows are delivered as
    // read (at least once: an insert between the watermarks may come twice).
    if (chunk_.keyed && chunk_.changed_keys.contains(chunk_.keys[row])) continue;
    const size_t begin = row == 0 ? 0 : chunk_.ends[row - 1];
    const std::span<const std::byte> message(chunk_.bytes.data() + begin, chunk_.ends[row] - begin);
    auto decoded = pgoutput::decode_message(message, pgoutput::DecodeContext{});
    if (!decoded || !std::holds_alternative<pgoutput::Insert>(*decoded)) continue;
    if (!deliver(Row{&*table_, std::get<pgoutput::Insert>(*decoded).new_tuple})) return false;
  }
  return true;
}

void IncrementalSnapshot::chunk_delivered() {
  if (!chunk_.high_seen || state_.incremental.empty()) return;
  if (chunk_.read_again) {
    chunk_ = Chunk{};
    return;
  }
  IncrementalTable& progress = state_.incremental.front();
  progress.rows_read += chunk_.ends.size();
  if (chunk_.by_blocks) {
    BlockRange& range = progress.ranges.front();
    if (!chunk_.to_block || (range.to && *chunk_.to_block >= *range.to)) {
      progress.ranges.erase(progress.ranges.begin());
    } else {
      range.from = *chunk_.to_block;
    }
    chunk_.table_done = progress.ranges.empty();
  } else if (!chunk_.last_key.empty()) {
    progress.after = chunk_.last_key;
  }
  if (chunk_.table_done) {
    if (on_table_ && table_) on_table_(*table_, /*started=*/false, progress.rows_read);
    state_.incremental.pop_front();
    table_.reset();
    counters_.tables_done.fetch_add(1, std::memory_order_relaxed);
    counters_.reading.store(has_work());
  }
  chunk_ = Chunk{};
  save();
}

}  // namespace vil::cdc
