#include "snapshot_reader.hpp"

#include <libpq-fe.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "snapshot_connection.hpp"
#include "vil/pgoutput/byte_order.hpp"
#include "vil/pgoutput/messages.hpp"

namespace vil::cdc {

namespace {

// Rows are handed over in batches of about this many bytes; each worker may
// have two waiting, so memory stays at a few MiB whatever the tables' size.
constexpr size_t kBatchBytes = 256u << 10;
constexpr size_t kBatchesPerWorker = 2;

// Imports `snapshot` into a new transaction on `conn`.
std::expected<void, std::string> import_snapshot(PGconn* conn, const std::string& snapshot) {
  if (auto r = run_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                           "beginning the snapshot");
      !r) {
    return r;
  }
  char* quoted = PQescapeLiteral(conn, snapshot.data(), snapshot.size());
  if (quoted == nullptr) return std::unexpected("the snapshot's name cannot be quoted");
  const std::string sql = fmt::format("SET TRANSACTION SNAPSHOT {}", quoted);
  PQfreemem(quoted);
  return run_command(conn, sql, fmt::format("importing snapshot {}", snapshot));
}

std::expected<PqConnection, std::string> connect(const std::string& conn_string) {
  return connect_for_snapshot(conn_string, "vil-cdc snapshot", "to read the snapshot");
}

// Rows of one unit as pgoutput Insert messages, back to back; or, with
// `unit_done`, no rows: every row of the unit came before it.
struct Batch {
  size_t table = 0;
  size_t unit = 0;
  bool unit_done = false;
  std::vector<std::byte> bytes;
  std::vector<uint32_t> ends;  // where each message ends
};

}  // namespace

namespace {

// One escape of COPY's text format, `p` after its backslash: the byte it
// stands for, and `p` moved past it.
char unescape(const char*& p, const char* end) {
  const char e = *p++;
  switch (e) {
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'v':
      return '\v';
    case 'x': {
      int value = 0;
      int digits = 0;
      while (digits < 2 && p < end && std::isxdigit(static_cast<unsigned char>(*p))) {
        const char h = *p++;
        value = value * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
        ++digits;
      }
      return digits == 0 ? 'x' : static_cast<char>(value);
    }
    default:
      if (e >= '0' && e <= '7') {
        int value = e - '0';
        for (int k = 0; k < 2 && p < end && *p >= '0' && *p <= '7'; ++k) {
          value = value * 8 + (*p++ - '0');
        }
        return static_cast<char>(value);
      }
      return e;
  }
}

}  // namespace

bool append_copy_row(std::string_view line, uint16_t columns, std::vector<std::byte>& out) {
  // The hot path of a snapshot: runs without a backslash are copied whole.
  // Unescaping never lengthens a field, so one resize holds the row: its
  // text plus a kind byte and a length per column.
  const size_t base = out.size();
  out.resize(base + line.size() + 5u * columns);
  std::byte* const start = out.data();
  std::byte* w = start + base;
  const char* p = line.data();
  const char* const end = p + line.size();
  for (uint16_t column = 0; column < columns; ++column) {
    if (column > 0) {
      if (p >= end || *p != '\t') {
        out.resize(base);
        return false;
      }
      ++p;
    }
    const auto* tab = static_cast<const char*>(std::memchr(p, '\t', static_cast<size_t>(end - p)));
    const char* const field_end = tab != nullptr ? tab : end;
    if (field_end - p == 2 && p[0] == '\\' && p[1] == 'N') {
      *w++ = std::byte{'n'};
      p = field_end;
      continue;
    }
    *w++ = std::byte{'t'};
    std::byte* const length_at = w;
    w += 4;
    std::byte* const text_at = w;
    while (p < field_end) {
      const auto* slash =
          static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(field_end - p)));
      const char* const run_end = slash != nullptr ? slash : field_end;
      std::memcpy(w, p, static_cast<size_t>(run_end - p));
      w += run_end - p;
      p = run_end;
      if (slash == nullptr) break;
      ++p;  // the backslash
      // A backslash that ends the field stands for itself.
      *w++ = static_cast<std::byte>(p < field_end ? unescape(p, field_end) : '\\');
    }
    pgoutput::store_be<uint32_t>(length_at, static_cast<uint32_t>(w - text_at));
  }
  if (p != end) {  // more columns than the table's
    out.resize(base);
    return false;
  }
  out.resize(static_cast<size_t>(w - start));
  return true;
}

struct SnapshotReader::Impl {
  SnapshotSettings settings;
  PqConnection first;  // the first worker's; holds an exported snapshot open
  std::string snapshot;
  uint64_t exported_at = 0;
  std::vector<SnapshotTable> tables;

  // The hand-over from the workers.
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::unique_ptr<Batch>> batches;
  size_t capacity = 2;
  uint32_t workers_running = 0;
  bool cancelled = false;
  std::optional<std::string> error;
  std::vector<SnapshotUnit> units;
  std::atomic<size_t> next_unit{0};

  void work(PqConnection conn);
  std::expected<void, std::string> read_unit(PGconn* conn, size_t index);
  void plan_units();
  // Worker side: false when reading was cancelled.
  bool hand_over(std::unique_ptr<Batch> batch);
  void fail(std::string message) {
    std::lock_guard lock(mutex);
    if (!error) error = std::move(message);
    cancelled = true;
    changed.notify_all();
  }
};

SnapshotReader::SnapshotReader(SnapshotSettings settings) : impl_(std::make_unique<Impl>()) {
  impl_->settings = std::move(settings);
}

SnapshotReader::~SnapshotReader() = default;

const std::vector<SnapshotTable>& SnapshotReader::tables() const {
  return impl_->tables;
}

uint64_t SnapshotReader::exported_at() const {
  return impl_->exported_at;
}

std::expected<void, std::string> SnapshotReader::open() {
  auto conn = connect(impl_->settings.conn_string);
  if (!conn) return std::unexpected(conn.error());
  impl_->first = std::move(*conn);
  PGconn* c = impl_->first.get();
  if (!impl_->settings.snapshot_name.empty()) {
    impl_->snapshot = impl_->settings.snapshot_name;
    if (auto r = import_snapshot(c, impl_->snapshot); !r) return r;
  } else {
    if (auto r = run_command(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                             "beginning the snapshot");
        !r) {
      return r;
    }
    // On a standby (pg_current_wal_lsn() fails there) the snapshot shows
    // what was replayed.
    PqResult exported(PQexec(
        c,
        "SELECT pg_catalog.pg_export_snapshot(), CASE WHEN pg_catalog.pg_is_in_recovery() "
        "THEN pg_catalog.pg_last_wal_replay_lsn() ELSE pg_catalog.pg_current_wal_lsn() END"));
    if (exported.status() != PGRES_TUPLES_OK || PQntuples(exported.get()) != 1) {
      return std::unexpected(fmt::format("exporting a snapshot: {}", one_line(PQerrorMessage(c))));
    }
    impl_->snapshot = PQgetvalue(exported.get(), 0, 0);
    impl_->exported_at =
        pgoutput::parse_lsn(PQgetvalue(exported.get(), 0, 1)).value_or(pgoutput::Lsn{}).value;
  }
  auto tables = list_publication_tables(c, impl_->settings.publication);
  if (!tables) return std::unexpected(tables.error());
  impl_->tables = std::move(*tables);
  impl_->plan_units();
  return {};
}

bool SnapshotReader::Impl::hand_over(std::unique_ptr<Batch> batch) {
  std::unique_lock lock(mutex);
  changed.wait(lock, [&] { return cancelled || batches.size() < capacity; });
  if (cancelled) return false;
  batches.push_back(std::move(batch));
  changed.notify_all();
  return true;
}

std::expected<void, std::string> SnapshotReader::Impl::read_unit(PGconn* conn, size_t index) {
  const SnapshotUnit& unit = units[index];
  const SnapshotTable& table = tables[unit.table];
  const auto& schema = table.schema;
  std::string where;
  const auto add = [&where](const std::string& condition) {
    where += where.empty() ? " WHERE " : " AND ";
    where += condition;
  };
  if (unit.from_block) add(fmt::format("ctid >= '({},0)'::pg_catalog.tid", *unit.from_block));
  if (unit.to_block) add(fmt::format("ctid < '({},0)'::pg_catalog.tid", *unit.to_block));
  if (!table.row_filter.empty()) add("(" + table.row_filter + ")");
  const std::string sql =
      fmt::format("COPY (SELECT {} FROM {}{}) TO STDOUT", table.select_list, table.from, where);
  PqResult started(PQexec(conn, sql.c_str()));
  if (started.status() != PGRES_COPY_OUT) {
    return std::unexpected(
        fmt::format("reading table {}: {}", schema.qualified_name, one_line(PQerrorMessage(conn))));
  }
  const auto columns = static_cast<uint16_t>(schema.columns.size());
  auto batch = std::make_unique<Batch>();
  batch->table = unit.table;
  batch->unit = index;
  for (;;) {
    char* line = nullptr;
    const int length = PQgetCopyData(conn, &line, /*async=*/0);
    if (length < 0) break;
    std::string_view text(line, static_cast<size_t>(length));
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    auto& bytes = batch->bytes;
    const size_t start = bytes.size();
    bytes.resize(start + 8);
    bytes[start] = std::byte{'I'};
    pgoutput::store_be<uint32_t>(bytes.data() + start + 1, schema.id);
    bytes[start + 5] = std::byte{'N'};
    pgoutput::store_be<uint16_t>(bytes.data() + start + 6, columns);
    const bool whole = append_copy_row(text, columns, bytes);
    PQfreemem(line);
    if (!whole) {
      return std::unexpected(
          fmt::format("reading table {}: a row of COPY's output does not have "
                      "its {} columns",
                      schema.qualified_name, columns));
    }
    batch->ends.push_back(static_cast<uint32_t>(bytes.size()));
    if (bytes.size() >= kBatchBytes) {
      if (!hand_over(std::move(batch))) return {};
      batch = std::make_unique<Batch>();
      batch->table = unit.table;
      batch->unit = index;
    }
  }
  PqResult finished(PQgetResult(conn));
  if (finished.status() != PGRES_COMMAND_OK) {
    return std::unexpected(
        fmt::format("reading table {}: {}", schema.qualified_name, one_line(PQerrorMessage(conn))));
  }
  while (PGresult* more = PQgetResult(conn)) PQclear(more);
  if (!batch->ends.empty() && !hand_over(std::move(batch))) return {};
  auto done = std::make_unique<Batch>();
  done->table = unit.table;
  done->unit = index;
  done->unit_done = true;
  hand_over(std::move(done));
  return {};
}

void SnapshotReader::Impl::work(PqConnection conn) {
  for (;;) {
    {
      std::lock_guard lock(mutex);
      if (cancelled) break;
    }
    const size_t index = next_unit.fetch_add(1);
    if (index >= units.size()) break;
    if (auto r = read_unit(conn.get(), index); !r) {
      fail(r.error());
      break;
    }
  }
  (void)run_command(conn.get(), "COMMIT", "ending the snapshot");
  std::lock_guard lock(mutex);
  --workers_running;
  changed.notify_all();
}

const std::vector<SnapshotUnit>& SnapshotReader::units() const {
  return impl_->units;
}

void SnapshotReader::Impl::plan_units() {
  for (size_t t = 0; t < tables.size(); ++t) {
    const SnapshotTable& table = tables[t];
    const uint64_t per_unit = std::max<uint64_t>(1, settings.blocks_per_unit);
    if (table.partitioned || table.pages <= per_unit) {
      units.push_back(SnapshotUnit{t, std::nullopt, std::nullopt});
      continue;
    }
    // relpages is an estimate: the last range has no end.
    for (uint64_t from = 0; from < table.pages; from += per_unit) {
      const bool last = from + per_unit >= table.pages;
      units.push_back(SnapshotUnit{t, from == 0 ? std::nullopt : std::optional<uint64_t>(from),
                                   last ? std::nullopt : std::optional<uint64_t>(from + per_unit)});
    }
  }
}

std::expected<bool, std::string> SnapshotReader::read(const Deliver& deliver,
                                                      const UnitDone& unit_done) {
  Impl& s = *impl_;
  // More workers than units would only hold connections.
  const auto workers = static_cast<uint32_t>(
      std::max<size_t>(1, std::min<size_t>(s.settings.workers, s.units.size())));
  std::vector<PqConnection> connections;
  connections.push_back(std::move(s.first));
  for (uint32_t i = 1; i < workers; ++i) {
    auto conn = connect(s.settings.conn_string);
    if (!conn) return std::unexpected(conn.error());
    if (auto r = import_snapshot(conn->get(), s.snapshot); !r) return std::unexpected(r.error());
    connections.push_back(std::move(*conn));
  }
  s.capacity = kBatchesPerWorker * workers;
  s.workers_running = workers;
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (auto& conn : connections) {
    threads.emplace_back([&s, c = std::move(conn)]() mutable { s.work(std::move(c)); });
  }
  const auto stop_workers = [&] {
    {
      std::lock_guard lock(s.mutex);
      s.cancelled = true;
      s.changed.notify_all();
    }
    for (auto& t : threads) t.join();
  };

  // One row is held back until the next comes, so that the last one is known.
  std::unique_ptr<Batch> current;     // the batch whose rows are being delivered
  std::unique_ptr<Batch> held_owner;  // the held row's batch, once `current` moved on
  const Batch* held_batch = nullptr;
  size_t held_row = 0;
  bool go_on = true;
  const auto deliver_row = [&](bool last) {
    const size_t begin = held_row == 0 ? 0 : held_batch->ends[held_row - 1];
    const std::span<const std::byte> message(held_batch->bytes.data() + begin,
                                             held_batch->ends[held_row] - begin);
    auto decoded = pgoutput::decode_message(message, pgoutput::DecodeContext{});
    if (!decoded || !std::holds_alternative<pgoutput::Insert>(*decoded)) {
      s.fail(fmt::format("reading table {}: a row could not be decoded",
                         s.tables[held_batch->table].schema.qualified_name));
      return false;
    }
    return deliver(
        Row{&s.tables[held_batch->table], std::get<pgoutput::Insert>(*decoded).new_tuple, last});
  };
  // Units whose rows all came, but whose last row is the one held back.
  std::vector<size_t> done_after_held;
  const auto deliver_held = [&](bool last) {
    if (!deliver_row(last)) return false;
    if (unit_done) {
      for (const size_t unit : done_after_held) unit_done(unit);
    }
    done_after_held.clear();
    return true;
  };
  while (go_on) {
    std::unique_ptr<Batch> next;
    {
      std::unique_lock lock(s.mutex);
      s.changed.wait(lock, [&] { return !s.batches.empty() || s.workers_running == 0 || s.error; });
      if (s.error || s.batches.empty()) break;  // failed, or every worker finished
      next = std::move(s.batches.front());
      s.batches.pop_front();
      s.changed.notify_all();
    }
    if (next->unit_done) {
      // Every row of the unit was handed over before this.
      const bool held_is_its = held_batch != nullptr && held_batch->unit == next->unit;
      if (held_is_its) {
        done_after_held.push_back(next->unit);
      } else if (unit_done) {
        unit_done(next->unit);
      }
      continue;
    }
    held_owner = std::move(current);
    current = std::move(next);
    for (size_t row = 0; row < current->ends.size(); ++row) {
      if (held_batch != nullptr && !(go_on = deliver_held(false))) break;
      held_batch = current.get();
      held_row = row;
      held_owner.reset();
    }
  }
  const bool holding = held_batch != nullptr;
  if (go_on && holding) {
    std::lock_guard lock(s.mutex);
    go_on = !s.error;
  }
  if (go_on && holding) go_on = deliver_held(true);
  stop_workers();
  if (s.error) return std::unexpected(*s.error);
  return go_on;
}

}  // namespace vil::cdc
