#include "change_delivery.hpp"

#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "delivery_fault.hpp"
#include "snapshot_reader.hpp"
#include "stream_mapping.hpp"
#include "vil/cdc/snapshot_request.hpp"
#include "vil/core/unix_time.hpp"
#include "vil/log/dictionary.hpp"
#include "vil/log/logger.hpp"
#include "vil/pgoutput/byte_order.hpp"
#include "vil/pgoutput/frames.hpp"

namespace vil::cdc {

namespace {

using replication::QueueItem;

// Delivered bytes after which the sink is flushed even while busy, so the
// slot keeps advancing under a steady stream.
constexpr size_t kFlushEveryBytes = 4u << 20;

// The messages a Stream Start/Stop block carries with the xid of the
// (sub)transaction that made them, right after their type.
bool is_streamed_change(std::span<const std::byte> payload) {
  if (payload.empty()) return false;
  switch (static_cast<char>(payload[0])) {
    case 'R':
    case 'Y':
    case 'I':
    case 'U':
    case 'D':
    case 'T':
    case 'M':
      return true;
    default:
      return false;
  }
}

RowOperation row_operation(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::Update:
      return RowOperation::Update;
    case ChangeKind::Delete:
      return RowOperation::Delete;
    default:
      return RowOperation::Insert;
  }
}

}  // namespace

ChangeDelivery::ChangeDelivery(const CdcConfig& config, replication::FrameQueue& queue,
                               replication::StreamReader& reader, RunControl& control,
                               TriggerEvents& events, ChangeSink& sink, DeliveryCounters counters,
                               NoticeCallback on_notice, AckTracker* acks)
    : config_(config),
      queue_(queue),
      reader_(reader),
      control_(control),
      events_(events),
      sink_(sink),
      counters_(counters),
      on_notice_(std::move(on_notice)),
      slot_hash_(log::register_str(config.slot_name)),
      publication_hash_(log::register_str(config.publication)),
      incremental_(
          config, on_notice_,
          [this](const SnapshotTable& table, bool started, uint64_t rows) {
            log_table(table, started, rows);
          },
          counters.snapshot),
      streamed_(config.streaming_memory_bytes, config.spill_dir.empty()
                                                   ? std::filesystem::temp_directory_path()
                                                   : std::filesystem::path(config.spill_dir)),
      async_(acks != nullptr ? dynamic_cast<AsyncChangeSink*>(&sink) : nullptr),
      acks_(async_ != nullptr ? acks : nullptr) {}

std::optional<CdcFault> ChangeDelivery::run(uint64_t end_lsn) {
  ledger_ = DeliveryLedger(end_lsn);
  try {
    if (async_ != nullptr) async_->bind(*acks_);
    if (config_.streaming != Streaming::Off) {
      if (auto ready = streamed_.check_spill_dir(); !ready) {
        fail(CdcFault(ConfigInvalid{log::register_str("cdc.spill_dir")},
                      "cdc.spill_dir: " + ready.error()));
        return fault_;
      }
    }
    if (auto loaded = incremental_.load(); !loaded) {
      fail(CdcFault(SnapshotFailed{publication_hash_}, loaded.error()));
      return fault_;
    }
    deliver_queued();
  } catch (...) {
    fail(caught_as_delivery_fault(events_.last_sequence(), "delivering changes failed"));
  }
  return fault_;
}

void ChangeDelivery::deliver_queued() {
  std::vector<QueueItem> taken;
  std::deque<QueueItem> pending;
  size_t pending_bytes = 0;
  bool finished = false;
  while (!finished && !fault_) {
    const RunControl::Ask ask = control_.ask();
    if (ask == RunControl::Ask::Stop) break;
    if (ask == RunControl::Ask::Pause) {
      if (!wait_while_paused()) break;
      continue;
    }
    if (pending.empty()) {
      if (queue_.empty()) flush_and_publish();
      if (fault_) break;  // an asynchronous sink's failure, told by an acknowledging thread
      // Woken by frames, by the control lane, or by the I/O thread's end.
      if (!queue_.pop_all(taken)) continue;
      for (auto& item : taken) {
        if (auto* frame = std::get_if<replication::WalFrame>(&item))
          pending_bytes += frame->frame_bytes;
        pending.push_back(std::move(item));
      }
      taken.clear();
    }
    // Frames are released in groups: the I/O thread only needs to hear
    // about room, not about every frame.
    size_t released = 0;
    while (!pending.empty()) {
      if (control_.ask() != RunControl::Ask::Deliver) break;
      QueueItem item = std::move(pending.front());
      pending.pop_front();
      size_t size = 0;
      if (auto* frame = std::get_if<replication::WalFrame>(&item)) size = frame->frame_bytes;
      Step step = deliver(item);
      released += size;
      pending_bytes -= size;
      if (step != Step::Next) {
        finished = true;
        break;
      }
    }
    if (!fault_ && pending.empty() && queue_.empty()) flush_and_publish();
    // Wakes the I/O thread when that made room, or drained what it waits for.
    queue_.release(released);
  }
  // What stays queued was never delivered, so it is never confirmed: the
  // server sends it again to the next session. After a failed callback what
  // came before it is still flushed and confirmed (a failed frame is not
  // done, so nothing after it is); after a failed flush, nothing more.
  flush_and_publish();
  drain_async();
  queue_.release(pending_bytes);
}

ChangeDelivery::Step ChangeDelivery::fail(CdcFault fault) {
  // Counted once, by the trigger, for the fault that ends start().
  if (!fault_) fault_ = std::move(fault);
  return Step::Fault;
}

ChangeDelivery::Step ChangeDelivery::deliver(const QueueItem& item) {
  if (const auto* frame = std::get_if<replication::WalFrame>(&item)) {
    // Every frame of the block before this one was delivered.
    if (frame->block != current_block_) {
      if (current_block_ != nullptr) queue_.arena().release(current_block_);
      current_block_ = frame->block;
    }
    // A failed frame ends the run: nothing after it is delivered, so no
    // later position becomes confirmable.
    return deliver_frame(*frame);
  }
  if (const auto* position = std::get_if<replication::ServerPosition>(&item)) {
    // A chunk that failed is tried again once it is due.
    incremental_.start_chunk();
    const bool end = ledger_.server_position(position->lsn);
    note_boundary();
    return end ? Step::End : Step::Next;
  }
  if (const auto* session = std::get_if<replication::SessionStarted>(&item)) {
    // The server starts again from the slot: a transaction cut short by the
    // lost connection comes again whole.
    decoder_ = pgoutput::Decoder(
        pgoutput::DecoderOptions{.protocol_version = session->protocol_version,
                                 .parallel_streaming = config_.streaming == Streaming::Parallel});
    // It streams every transaction still open again, from its start.
    streamed_.clear();
    counters_.changes.streamed_open.store(0, std::memory_order_relaxed);
    ledger_.session_started(session->flushed_at_start);
    relations_.clear();  // described again by the new session
    database_encoding_ = std::string(session->encoding());
    requests_.clear();
    withheld_messages_ = false;
    high_watermark_.reset();
    // An incremental snapshot an earlier run did not finish goes on.
    incremental_.start_chunk();
    return Step::Next;
  }
  if (const auto* exported = std::get_if<replication::SnapshotExported>(&item)) {
    return deliver_snapshot(std::string(exported->snapshot()), exported->consistent_point);
  }
  // IoFinished: the I/O thread recorded its error, if any.
  if (const auto& error = reader_.error()) return fail(to_cdc_fault(*error, config_));
  return Step::End;
}

void ChangeDelivery::describe_columns(const pgoutput::RelationSchema& relation,
                                      RelationState& state) {
  std::vector<uint32_t> others;
  for (const pgoutput::ColumnSchema& column : relation.columns) {
    if (values::is_builtin_type(column.type_oid)) continue;
    others.push_back(column.type_oid);
    // The Type message that came before names it (an enum's array by its name).
    if (const pgoutput::TypeSchema* type = decoder_.types().find(column.type_oid)) {
      types_.add_type(type->id, type->namespace_name, type->name);
    }
  }
  bool replaced = !others.empty();  // add_type may have replaced entries others point into
  if (!others.empty()) {
    if (!catalog_) {
      catalog_ =
          std::make_unique<CatalogConnection>(config_.conn_string, [this](const std::string& why) {
            if (on_notice_) {
              on_notice_(why + " (until it answers, such column values keep their text)");
            }
          });
    }
    types_.resolve(others, *catalog_);
  }
  const auto types_of = [this](const pgoutput::RelationSchema& r) {
    std::vector<values::TypeInfo> types;
    types.reserve(r.columns.size());
    for (const pgoutput::ColumnSchema& column : r.columns)
      types.push_back(types_.find(column.type_oid));
    return types;
  };
  state.column_types = types_of(relation);
  // TypeInfo names point into the catalog: derive the others again.
  if (replaced) {
    for (auto& [id, other] : relations_) {
      if (&other == &state) continue;
      if (const pgoutput::RelationSchema* r = decoder_.relations().find(id)) {
        other.column_types = types_of(*r);
      }
    }
  }
}

ChangeDelivery::Step ChangeDelivery::deliver_frame(const replication::WalFrame& frame) {
  if (decoder_.in_stream() && is_streamed_change(frame.payload)) return keep_streamed(frame);
  auto decoded = decoder_.decode(frame.payload);
  if (!decoded) return decode_failed(decoded.error());
  return deliver_message(*decoded, pgoutput::Lsn{frame.wal_start}, frame.payload.size());
}

ChangeDelivery::Step ChangeDelivery::decode_failed(const pgoutput::DecodeError& e) {
  if (e.code == pgoutput::DecodeErrc::UnknownMessageType) {
    return fail(CdcFault(UnknownMessage{e.message_type},
                         fmt::format("slot \"{}\" sent a message vil-cdc does not know: {}",
                                     config_.slot_name, e.message)));
  }
  return fail(CdcFault(
      MalformedMessage{e.message_type, static_cast<uint32_t>(e.offset)},
      fmt::format("slot \"{}\" sent a malformed message: {}", config_.slot_name, e.message)));
}

ChangeDelivery::Step ChangeDelivery::keep_streamed(const replication::WalFrame& frame) {
  // Kept as bytes and decoded at the commit: a Relation or Type message in
  // the block describes the table as this transaction sees it, which the
  // transactions that commit before it must not.
  const std::span<const std::byte> payload = frame.payload;
  const auto type = static_cast<char>(payload[0]);
  if (payload.size() < 1 + sizeof(uint32_t)) {
    return fail(CdcFault(
        MalformedMessage{static_cast<uint8_t>(type), static_cast<uint32_t>(payload.size())},
        fmt::format("slot \"{}\" sent a malformed message: a streamed '{}' of {} bytes has no "
                    "xid",
                    config_.slot_name, type, payload.size())));
  }
  const uint32_t subxid = pgoutput::load_be<uint32_t>(payload.data() + 1);
  const size_t open_before = streamed_.open();
  const uint64_t spilled_before = streamed_.spilled_bytes();
  auto kept = streamed_.append(decoder_.stream_xid(), subxid, frame.wal_start, payload[0],
                               payload.subspan(1 + sizeof(uint32_t)));
  if (!kept) {
    return fail(CdcFault(DeliveryFailed{events_.last_sequence()},
                         fmt::format("slot \"{}\": streamed transaction {}: {}", config_.slot_name,
                                     decoder_.stream_xid(), kept.error())));
  }
  if (streamed_.open() != open_before) {
    counters_.changes.streamed_open.store(streamed_.open(), std::memory_order_relaxed);
  }
  if (streamed_.spilled_bytes() != spilled_before) {
    ChangeCounters::add(counters_.changes.streamed_spilled_bytes,
                        streamed_.spilled_bytes() - spilled_before);
  }
  return Step::Next;
}

ChangeDelivery::Step ChangeDelivery::deliver_streamed(const pgoutput::StreamCommit& commit,
                                                      pgoutput::Lsn lsn) {
  using namespace pgoutput;
  const auto forget = [&] {
    (void)streamed_.abort(commit.xid, commit.xid);
    counters_.changes.streamed_open.store(streamed_.open(), std::memory_order_relaxed);
  };
  Step step = deliver_message(
      DecodedMessage{Begin{commit.commit_lsn, commit.commit_time, commit.xid}}, lsn, 0);
  if (step != Step::Next) {
    forget();
    return step;
  }
  auto replayed =
      streamed_.replay(commit.xid, [&](uint64_t at, std::span<const std::byte> message) {
        // Paused or stopped between two changes, as between two frames.
        if (!may_go_on(step)) return false;
        auto decoded = decoder_.decode(message);
        step = decoded ? deliver_message(*decoded, Lsn{at}, message.size())
                       : decode_failed(decoded.error());
        return step == Step::Next;
      });
  counters_.changes.streamed_open.store(streamed_.open(), std::memory_order_relaxed);
  if (!replayed) {
    return fail(CdcFault(DeliveryFailed{events_.last_sequence()},
                         fmt::format("slot \"{}\": streamed transaction {}: {}", config_.slot_name,
                                     commit.xid, replayed.error())));
  }
  if (step != Step::Next) return step;
  ChangeCounters::add(counters_.changes.streamed_committed, 1);
  // Everything it kept was in aborted subtransactions: as with any empty
  // transaction the server leaves out, the owner does not hear of it.
  if (ordinal_ == 0) withheld_messages_ = true;
  return deliver_message(
      DecodedMessage{Commit{commit.flags, commit.commit_lsn, commit.end_lsn, commit.commit_time}},
      lsn, 0);
}

ChangeDelivery::Step ChangeDelivery::deliver_message(const pgoutput::DecodedMessage& decoded,
                                                     pgoutput::Lsn lsn, size_t payload_bytes) {
  using namespace pgoutput;
  Change change;
  change.lsn = lsn;
  change.row_bytes = payload_bytes;
  change.relation = decoded.relation;
  change.types = &decoder_.types();
  change.database_encoding = database_encoding_;
  return std::visit(
      [&](const auto& m) -> Step {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, Begin>) {
          // Begin carries the commit LSN: a transaction past the end is not
          // delivered at all.
          if (!ledger_.begin(m.final_lsn.value)) return Step::End;
          xid_ = m.xid;
          commit_lsn_ = m.final_lsn;
          commit_time_ns_ = m.commit_time.unix_ns();
          ordinal_ = 0;
          withheld_messages_ = false;
          incremental_.transaction_began(m.xid);
          return Step::Next;
        } else if constexpr (std::is_same_v<M, Commit>) {
          // A transaction of nothing but messages the owner does not get
          // (vil-cdc's own requests and watermarks; any, with messages off)
          // is not the owner's: the server would not have sent it.
          if (!withheld_messages_ || ordinal_ > 0) {
            TransactionEnd end{xid_, m.commit_lsn, m.end_lsn, commit_time_ns_, ordinal_};
            try {
              sink_.on_commit(end);
            } catch (...) {
              return fail(caught_as_delivery_fault(
                  events_.last_sequence(),
                  fmt::format("the commit callback failed on transaction {}", xid_)));
            }
            unflushed_ = true;
            counters_.transactions.fetch_add(1, std::memory_order_relaxed);
            counters_.changes.last_commit_unix_ns.store(commit_time_ns_, std::memory_order_relaxed);
          }
          const bool end_here = ledger_.commit(m.commit_lsn.value, m.end_lsn.value);
          note_boundary();
          for (const auto& request : requests_) incremental_.requested(request, m.commit_lsn.value);
          const bool requested = !requests_.empty();
          requests_.clear();
          if (high_watermark_) {
            const pgoutput::Lsn at = *high_watermark_;
            high_watermark_.reset();
            if (const Step step = deliver_chunk(at); step != Step::Next) return step;
          } else if (requested) {
            incremental_.start_chunk();
          }
          return end_here ? Step::End : Step::Next;
        } else if constexpr (std::is_same_v<M, Relation>) {
          RelationState& state = relations_[m.id];
          state.table_hash = log::register_str(decoded.relation->qualified_name);
          describe_columns(*decoded.relation, state);
          return Step::Next;
        } else if constexpr (std::is_same_v<M, Insert>) {
          if (incremental_.tracking(m.relation_id)) {
            incremental_.changed(*decoded.relation, nullptr, &m.new_tuple);
          }
          change.kind = ChangeKind::Insert;
          change.new_tuple = m.new_tuple;
          return deliver_change(change);
        } else if constexpr (std::is_same_v<M, Update>) {
          if (incremental_.tracking(m.relation_id)) {
            incremental_.changed(*decoded.relation, &m.old_tuple, &m.new_tuple);
          }
          change.kind = ChangeKind::Update;
          change.old_kind = m.old_kind;
          change.old_tuple = m.old_tuple;
          change.new_tuple = m.new_tuple;
          return deliver_change(change);
        } else if constexpr (std::is_same_v<M, Delete>) {
          if (incremental_.tracking(m.relation_id)) {
            incremental_.changed(*decoded.relation, &m.old_tuple, nullptr);
          }
          change.kind = ChangeKind::Delete;
          change.old_kind = m.old_kind;
          change.old_tuple = m.old_tuple;
          return deliver_change(change);
        } else if constexpr (std::is_same_v<M, Truncate>) {
          truncated_.clear();
          for (Oid id : m.relation_ids) {
            const RelationSchema* schema = decoder_.relations().find(id);
            if (schema == nullptr) {
              return fail(CdcFault(MalformedMessage{'T', 0},
                                   fmt::format("Truncate names relation {} that the server never "
                                               "described",
                                               id)));
            }
            truncated_.push_back(schema);
            incremental_.truncated(id);
          }
          change.kind = ChangeKind::Truncate;
          change.truncated = truncated_;
          change.cascade = m.cascade();
          change.restart_identity = m.restart_identity();
          return deliver_change(change);
        } else if constexpr (std::is_same_v<M, LogicalMessage>) {
          if (m.prefix == kSnapshotRequestPrefix || m.prefix == kWatermarkPrefix) {
            take_own_message(m);
            return Step::Next;
          }
          // The session always asks for messages: the watermarks are.
          if (!config_.messages) {
            withheld_messages_ = true;
            return Step::Next;
          }
          change.kind = ChangeKind::Message;
          change.lsn = m.lsn;
          change.prefix = m.prefix;
          change.content = m.content;
          change.transactional = m.transactional();
          return deliver_change(change);
        } else if constexpr (std::is_same_v<M, Type> || std::is_same_v<M, Origin> ||
                             std::is_same_v<M, StreamStart> || std::is_same_v<M, StreamStop>) {
          // A block's changes are kept as they come (keep_streamed).
          return Step::Next;
        } else if constexpr (std::is_same_v<M, StreamCommit>) {
          return deliver_streamed(m, lsn);
        } else if constexpr (std::is_same_v<M, StreamAbort>) {
          if (auto dropped = streamed_.abort(m.xid, m.subxid); !dropped) {
            return fail(CdcFault(DeliveryFailed{events_.last_sequence()},
                                 fmt::format("slot \"{}\": streamed transaction {}: {}",
                                             config_.slot_name, m.xid, dropped.error())));
          }
          if (m.xid == m.subxid) ChangeCounters::add(counters_.changes.streamed_aborted, 1);
          counters_.changes.streamed_open.store(streamed_.open(), std::memory_order_relaxed);
          return Step::Next;
        } else {
          // Two-phase transactions are not requested here.
          return fail(CdcFault(MalformedMessage{0, 0},
                               fmt::format("slot \"{}\" sent a {} message, which this session did "
                                           "not ask for",
                                           config_.slot_name, message_name(decoded.message))));
        }
      },
      decoded.message);
}

ChangeDelivery::Step ChangeDelivery::deliver_change(Change& change) {
  // The last change handed over filled the asynchronous sink's window.
  if (acks_full_) {
    try {
      async_->window_full();
    } catch (...) {
      return fail(caught_as_delivery_fault(events_.last_sequence(), "the sink failed to send"));
    }
    if (const Step step = wait_for_acks([this] { return acks_->has_room(); }); step != Step::Next) {
      return step;
    }
    acks_full_ = false;
  }
  uint64_t now = 0;
  if (change.kind == ChangeKind::Read) {
    // The snapshot set its place (consistent point, ordinal) and time. Its
    // rows come by the million: the clock is read every 256th, which keeps
    // their times within a fraction of a millisecond.
    if ((reads_since_clock_++ & 255u) == 0) read_clock_ns_ = core::unix_now_ns();
    now = read_clock_ns_;
    counters_.snapshot.rows.fetch_add(1, std::memory_order_relaxed);
  } else if (change.in_transaction()) {
    now = core::unix_now_ns();
    change.xid = xid_;
    change.commit_lsn = commit_lsn_;
    change.commit_time_ns = commit_time_ns_;
    change.ordinal = ordinal_++;
  } else {
    now = core::unix_now_ns();
    change.commit_time_ns = static_cast<int64_t>(now);
  }
  change.sequence = events_.next_sequence();
  const bool row = change.relation != nullptr;
  try {
    if (row) {
      const RelationState& state = relations_[change.relation->id];
      const uint32_t table_hash = state.table_hash;
      change.column_types = state.column_types;
      change.summary = RowChanged{table_hash,
                                  static_cast<uint8_t>(row_operation(change.kind)),
                                  {0, 0, 0},
                                  slot_hash_,
                                  static_cast<uint32_t>(change.lsn.value),
                                  static_cast<uint64_t>(change.commit_time_ns)};
      events_.fire(change.sequence, now, static_cast<uint32_t>(change.row_bytes));
    }
    // Recorded first: the sink may acknowledge from inside on_change().
    if (acks_) acks_full_ = !acks_->sent(change.sequence, change.row_bytes);
    sink_.on_change(change);
  } catch (...) {
    return fail(caught_as_delivery_fault(
        change.sequence, fmt::format("the change callback failed on change {}", change.sequence)));
  }
  unflushed_ = true;
  counters_.changes.count(change.kind);
  if (row && config_.log_changes) {
    log::MqPayload record{};
    record.broker_hash = slot_hash_;
    record.topic_hash = change.summary.table_hash;
    record.group_hash = publication_hash_;
    record.offset = change.sequence;
    record.message_bytes = static_cast<uint32_t>(change.row_bytes);
    const auto commit = static_cast<uint64_t>(change.commit_time_ns);
    record.e2e_latency_ns = now > commit ? now - commit : 0;
    // The CDC meaning of op_type: 0 insert, 1 update, 2 delete (docs/DESIGN.md §2.4).
    record.op_type = static_cast<log::MqOp>(change.summary.operation);
    log::mq_log(log::LogLevel::Info, record, now);
  }
  if (row) {
    counters_.rows_changed.fetch_add(1, std::memory_order_relaxed);
    counters_.events_fired.fetch_add(1, std::memory_order_relaxed);
    counters_.last_event_ns.store(now, std::memory_order_relaxed);
  }
  bytes_since_flush_ += change.row_bytes;
  // A snapshot's rows are flushed by size, like a large transaction's.
  const bool between = !ledger_.in_transaction() && change.kind != ChangeKind::Read;
  if (between || bytes_since_flush_ >= kFlushEveryBytes) {
    // Between transactions (a non-transactional message) or in a big one:
    // the sink flushes, but only whole transactions become confirmable.
    flush_and_publish();
    if (fault_) return Step::Fault;
  }
  return Step::Next;
}

void ChangeDelivery::take_own_message(const pgoutput::LogicalMessage& message) {
  // Both are written in transactions of their own; one outside a transaction
  // was not written by vil-cdc.
  if (!message.transactional()) return;
  withheld_messages_ = true;
  if (message.prefix == kSnapshotRequestPrefix) {
    requests_.emplace_back(message.content.begin(), message.content.end());
    return;
  }
  if (incremental_.watermark(message.content) == IncrementalSnapshot::Mark::High) {
    high_watermark_ = message.lsn;
  }
}

ChangeDelivery::Step ChangeDelivery::deliver_chunk(pgoutput::Lsn lsn) {
  if (const SnapshotTable* table = incremental_.table()) describe_table(*table);
  const auto taken_ns = static_cast<int64_t>(core::unix_now_ns());
  uint32_t ordinal = 0;
  Step step = Step::Next;
  const bool whole = incremental_.deliver_chunk([&](const IncrementalSnapshot::Row& row) {
    if (control_.ask() == RunControl::Ask::Stop) {
      step = Step::End;
      return false;
    }
    Change change = read_change(*row.table, row.tuple, lsn, taken_ns, ordinal++);
    change.incremental_snapshot = true;
    step = deliver_change(change);
    return step == Step::Next;
  });
  if (!whole) return step;
  // The chunk's progress is kept only once its rows are flushed (and
  // acknowledged).
  if (!settle()) return fault_ ? Step::Fault : Step::End;
  incremental_.chunk_delivered();
  incremental_.start_chunk();
  return Step::Next;
}

Change ChangeDelivery::read_change(const SnapshotTable& table, pgoutput::TupleView tuple,
                                   pgoutput::Lsn at, int64_t taken_ns, uint32_t ordinal) const {
  Change change;
  change.kind = ChangeKind::Read;
  change.lsn = at;
  change.commit_lsn = at;
  change.commit_time_ns = taken_ns;
  change.ordinal = ordinal;
  change.relation = &table.schema;
  change.new_tuple = tuple;
  change.row_bytes = tuple.wire_bytes().size();
  change.types = &decoder_.types();
  change.database_encoding = database_encoding_;
  return change;
}

void ChangeDelivery::describe_table(const SnapshotTable& table) {
  RelationState& state = relations_[table.schema.id];
  if (state.table_hash != 0 && !state.column_types.empty()) return;
  state.table_hash = log::register_str(table.schema.qualified_name);
  describe_columns(table.schema, state);
}

void ChangeDelivery::log_table(const SnapshotTable& table, bool started, uint64_t rows) {
  if (!config_.log_changes) return;
  log::MqPayload record{};
  record.broker_hash = slot_hash_;
  record.topic_hash = log::register_str(table.schema.qualified_name);
  record.group_hash = publication_hash_;
  record.offset = rows;
  // The CDC meaning of op_type (docs/DESIGN.md §2.4): 3 a snapshot began
  // reading the table, 4 it read all of it (offset: its rows).
  record.op_type = static_cast<log::MqOp>(started ? 3 : 4);
  log::mq_log(log::LogLevel::Info, record, core::unix_now_ns());
}

std::optional<CdcFault> ChangeDelivery::run_snapshot_only() {
  try {
    if (async_ != nullptr) async_->bind(*acks_);
    (void)deliver_snapshot(std::string(), 0);
    flush_and_publish();
    drain_async();
  } catch (...) {
    fail(caught_as_delivery_fault(events_.last_sequence(), "delivering the snapshot failed"));
  }
  return fault_;
}

ChangeDelivery::Step ChangeDelivery::deliver_snapshot(const std::string& name,
                                                      uint64_t consistent_point) {
  SnapshotSettings settings;
  settings.conn_string = config_.conn_string;
  settings.publication = config_.publication;
  settings.snapshot_name = name;
  settings.workers = config_.snapshot_workers;
  settings.blocks_per_unit = config_.snapshot_unit_blocks;
  SnapshotReader snapshot(std::move(settings));
  const auto failed = [&](const std::string& why) {
    return fail(CdcFault(
        SnapshotFailed{log::register_str(config_.publication)},
        fmt::format("the snapshot of publication \"{}\" failed: {}", config_.publication, why)));
  };
  if (auto opened = snapshot.open(); !opened) return failed(opened.error());
  const uint64_t at = consistent_point != 0 ? consistent_point : snapshot.exported_at();
  // Every table's types first, then again: resolving one table's may replace
  // catalog entries another's point into.
  for (int pass = 0; pass < 2; ++pass) {
    for (const SnapshotTable& table : snapshot.tables()) {
      RelationState& state = relations_[table.schema.id];
      state.table_hash = log::register_str(table.schema.qualified_name);
      describe_columns(table.schema, state);
    }
  }
  // An initial snapshot keeps what it has left to read, so that a run cut
  // short is finished by the next (§6.10).
  const bool resumable = !name.empty() && !config_.snapshot_state.empty();
  if (resumable) incremental_.begin_initial(snapshot.tables(), snapshot.units());
  // Each table's progress: its units left, its rows, whether it started.
  const std::vector<SnapshotTable>& tables = snapshot.tables();
  struct TableProgress {
    size_t units_left = 0;
    uint64_t rows = 0;
    bool started = false;
  };
  std::vector<TableProgress> progress(tables.size());
  for (const SnapshotUnit& unit : snapshot.units()) ++progress[unit.table].units_left;
  double estimated = 0;
  for (const SnapshotTable& table : tables) estimated += std::max(table.reltuples, 0.0);
  SnapshotCounters& counters = counters_.snapshot;
  counters.add_tables(static_cast<uint32_t>(tables.size()), estimated);
  counters.reading.store(true);
  const auto start_table = [&](size_t t) {
    if (progress[t].started) return;
    progress[t].started = true;
    log_table(tables[t], /*started=*/true, 0);
  };
  const auto unit_done = [&](size_t unit) {
    if (fault_) return;
    const SnapshotUnit& done = snapshot.units()[unit];
    if (resumable) {
      // Kept only once its rows are flushed (and acknowledged).
      if (!settle()) return;
      incremental_.initial_unit_done(tables[done.table], done);
    }
    if (--progress[done.table].units_left == 0) {
      start_table(done.table);  // an empty table starts and ends here
      log_table(tables[done.table], /*started=*/false, progress[done.table].rows);
      counters.tables_done.fetch_add(1, std::memory_order_relaxed);
    }
  };
  const auto taken_ns = static_cast<int64_t>(core::unix_now_ns());
  uint32_t ordinal = 0;
  Step step = Step::Next;
  auto read = snapshot.read(
      [&](const SnapshotReader::Row& row) {
        if (!may_go_on(step)) return false;
        const auto t = static_cast<size_t>(row.table - tables.data());
        start_table(t);
        ++progress[t].rows;
        Change change = read_change(*row.table, row.tuple, pgoutput::Lsn{at}, taken_ns, ordinal++);
        change.snapshot_last = row.last;
        step = deliver_change(change);
        return step == Step::Next;
      },
      unit_done);
  counters.reading.store(read && *read && incremental_.has_work());
  if (!read) return failed(read.error());
  if (!*read) return step == Step::Next ? Step::End : step;
  // The rows are flushed (and acknowledged) before the stream starts after
  // them, and before the slot is kept.
  if (!settle()) return fault_ ? Step::Fault : Step::End;
  reader_.snapshot_read();
  return Step::Next;
}

void ChangeDelivery::note_boundary() {
  if (acks_) acks_->boundary(ledger_.confirmable());
}

ChangeDelivery::Step ChangeDelivery::wait_for_acks(const std::function<bool()>& enough) {
  for (;;) {
    // What was acknowledged meanwhile is confirmed while waiting.
    flush_and_publish();
    if (fault_) return Step::Fault;
    if (acks_ == nullptr || enough()) return Step::Next;
    if (control_.ask() == RunControl::Ask::Stop) return Step::End;
    acks_->wait(std::chrono::milliseconds(50));
  }
}

void ChangeDelivery::drain_async() {
  if (async_ == nullptr || flush_failed_) return;
  try {
    async_->drain();
  } catch (...) {
    fail(caught_as_delivery_fault(events_.last_sequence(), "draining the sink failed"));
  }
  flush_and_publish();
}

bool ChangeDelivery::settle() {
  return wait_for_acks([this] { return acks_->in_flight() == 0; }) == Step::Next;
}

void ChangeDelivery::flush_and_publish() {
  if (flush_failed_) return;
  if (unflushed_) {
    try {
      sink_.flush();
    } catch (...) {
      flush_failed_ = true;
      fail(caught_as_delivery_fault(events_.last_sequence(), "flushing the output failed"));
      return;
    }
    unflushed_ = false;
    bytes_since_flush_ = 0;
  }
  // An asynchronous sink's acknowledgements decide what is delivered.
  if (acks_) {
    if (auto failed = acks_->failure()) {
      fail(CdcFault(DeliveryFailed{failed->sequence},
                    fmt::format("delivering change {} to {} failed: {}", failed->sequence,
                                failed->destination, failed->cause)));
    }
  }
  const uint64_t lsn = acks_ ? acks_->confirmable() : ledger_.confirmable();
  if (lsn != published_lsn_) {
    reader_.confirm(lsn);
    published_lsn_ = lsn;
  }
}

bool ChangeDelivery::may_go_on(Step& step) {
  for (;;) {
    const RunControl::Ask ask = control_.ask();
    if (ask == RunControl::Ask::Deliver) return true;
    if (ask == RunControl::Ask::Stop || !wait_while_paused()) {
      step = fault_ ? Step::Fault : Step::End;
      return false;
    }
  }
}

bool ChangeDelivery::wait_while_paused() {
  // What was delivered before the pause is confirmed during it.
  flush_and_publish();
  if (fault_) return false;
  if (auto fault = events_.acknowledge(core::TriggerOp::PauseAck)) {
    fail(std::move(*fault));
    return false;
  }
  for (;;) {
    const RunControl::Ask ask = control_.ask();
    if (ask == RunControl::Ask::Stop) return true;  // the loop sees it
    if (ask == RunControl::Ask::Deliver) break;
    // Acknowledgements that come during the pause are confirmed during it.
    if (acks_) {
      flush_and_publish();
      if (fault_) return false;
    }
    if (queue_.wait_for_wake_or_end() && control_.ask() == RunControl::Ask::Pause) {
      // Still paused, but the I/O thread is gone: its error (a bad password,
      // no such slot) ends start() now, not at resume().
      if (const auto& error = reader_.error()) fail(to_cdc_fault(*error, config_));
      return false;
    }
  }
  if (auto fault = events_.acknowledge(core::TriggerOp::ResumeAck)) {
    fail(std::move(*fault));
    return false;
  }
  return true;
}

}  // namespace vil::cdc
