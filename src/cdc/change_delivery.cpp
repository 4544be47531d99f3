#include "cdc/change_delivery.hpp"

#include <chrono>

#include <fmt/format.h>

#include "cdc/delivery_fault.hpp"
#include "core/unix_time.hpp"
#include "vil/log/dictionary.hpp"
#include "vil/log/logger.hpp"
#include "vil/pgoutput/frames.hpp"

namespace vil::cdc {

namespace {

using replication::QueueItem;

// Delivered bytes after which the sink is flushed even while busy, so the
// slot keeps advancing under a steady stream.
constexpr size_t kFlushEveryBytes = 4u << 20;

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

ChangeDelivery::ChangeDelivery(replication::StreamShared& shared, ChangeSink& sink,
                               const core::EventCallback& events, DeliveryCounters counters)
    : shared_(shared),
      sink_(sink),
      events_(events),
      counters_(counters),
      kind_hash_(log::register_str("cdc")),
      slot_hash_(log::register_str(shared.config.slot_name)),
      publication_hash_(log::register_str(shared.config.publication)) {}

std::optional<CdcFault> ChangeDelivery::run() {
  try {
    deliver_queued();
  } catch (...) {
    fail(caught_as_delivery_fault(counters_.sequence.load(), "delivering changes failed"));
  }
  return fault_;
}

void ChangeDelivery::deliver_queued() {
  std::vector<QueueItem> taken;
  std::deque<QueueItem> pending;
  size_t pending_bytes = 0;
  bool finished = false;
  while (!finished && !fault_) {
    if (shared_.stop.load()) break;
    if (shared_.paused.load()) {
      if (!wait_while_paused()) break;
      continue;
    }
    if (pending.empty()) {
      if (shared_.queue.empty()) flush_and_publish();
      if (!shared_.queue.pop_all(taken, std::chrono::milliseconds(1000))) continue;
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
      if (shared_.stop.load() || shared_.paused.load()) break;
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
    if (!fault_ && pending.empty() && shared_.queue.empty()) flush_and_publish();
    if (shared_.queue.release(released)) shared_.io_wake.notify();
  }
  // What stays queued was never delivered, so it is never confirmed: the
  // server sends it again to the next session. After a failed callback what
  // came before it is still flushed and confirmed (a failed frame is not
  // done, so nothing after it is); after a failed flush, nothing more.
  flush_and_publish();
  shared_.queue.release(pending_bytes);
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
      if (current_block_ != nullptr) shared_.arena.release(current_block_);
      current_block_ = frame->block;
    }
    Step step = deliver_frame(*frame);
    // A frame is done only once its callbacks returned: the acknowledgement
    // confirms a keepalive's position only after every frame before it was
    // done, so a failed one holds back everything after it.
    if (step != Step::Fault) ++frames_done_;
    return step;
  }
  if (const auto* session = std::get_if<replication::SessionStarted>(&item)) {
    // The server starts again from the slot: a transaction cut short by the
    // lost connection comes again whole.
    decoder_ = pgoutput::Decoder(pgoutput::DecoderOptions{session->protocol_version});
    in_transaction_ = false;
    relations_.clear();  // described again by the new session
    database_encoding_ = std::string(session->encoding());
    return Step::Next;
  }
  if (std::holds_alternative<replication::ServerCaughtUp>(item)) {
    // The I/O thread queues it only once the server passed the end
    // (replication/end_lsn.hpp).
    return in_transaction_ ? Step::Next : Step::End;
  }
  // IoFinished: the I/O thread recorded its fault, if any.
  if (auto fault = shared_.fault()) return fail(std::move(*fault));
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
      catalog_ = std::make_unique<CatalogConnection>(
          shared_.config.conn_string, [this](const std::string& why) {
            if (shared_.on_notice) {
              shared_.on_notice(why + " (until it answers, such column values keep their text)");
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
  auto decoded = decoder_.decode(frame.payload);
  if (!decoded) {
    const auto& e = decoded.error();
    if (e.code == pgoutput::DecodeErrc::UnknownMessageType) {
      return fail(CdcFault(UnknownMessage{e.message_type},
                           fmt::format("slot \"{}\" sent a message vil-cdc does not know: {}",
                                       shared_.config.slot_name, e.message)));
    }
    return fail(CdcFault(MalformedMessage{e.message_type, static_cast<uint32_t>(e.offset)},
                         fmt::format("slot \"{}\" sent a malformed message: {}",
                                     shared_.config.slot_name, e.message)));
  }
  return deliver_message(*decoded, pgoutput::Lsn{frame.wal_start}, frame.payload.size());
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
          if (shared_.end_lsn != 0 && m.final_lsn.value > shared_.end_lsn) return Step::End;
          in_transaction_ = true;
          xid_ = m.xid;
          commit_lsn_ = m.final_lsn;
          commit_time_ns_ = m.commit_time.unix_ns();
          ordinal_ = 0;
          return Step::Next;
        } else if constexpr (std::is_same_v<M, Commit>) {
          TransactionEnd end{xid_, m.commit_lsn, m.end_lsn, commit_time_ns_, ordinal_};
          try {
            sink_.on_commit(end);
          } catch (...) {
            return fail(caught_as_delivery_fault(
                counters_.sequence.load(),
                fmt::format("the commit callback failed on transaction {}", xid_)));
          }
          in_transaction_ = false;
          delivered_lsn_ = m.end_lsn.value;
          counters_.transactions.fetch_add(1, std::memory_order_relaxed);
          if (shared_.end_lsn != 0 && m.commit_lsn.value >= shared_.end_lsn) return Step::End;
          return Step::Next;
        } else if constexpr (std::is_same_v<M, Relation>) {
          RelationState& state = relations_[m.id];
          state.table_hash = log::register_str(decoded.relation->qualified_name);
          describe_columns(*decoded.relation, state);
          return Step::Next;
        } else if constexpr (std::is_same_v<M, Insert>) {
          change.kind = ChangeKind::Insert;
          change.new_tuple = m.new_tuple;
          return deliver_change(change);
        } else if constexpr (std::is_same_v<M, Update>) {
          change.kind = ChangeKind::Update;
          change.old_kind = m.old_kind;
          change.old_tuple = m.old_tuple;
          change.new_tuple = m.new_tuple;
          return deliver_change(change);
        } else if constexpr (std::is_same_v<M, Delete>) {
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
          }
          change.kind = ChangeKind::Truncate;
          change.truncated = truncated_;
          change.cascade = m.cascade();
          change.restart_identity = m.restart_identity();
          return deliver_change(change);
        } else if constexpr (std::is_same_v<M, LogicalMessage>) {
          change.kind = ChangeKind::Message;
          change.lsn = m.lsn;
          change.prefix = m.prefix;
          change.content = m.content;
          change.transactional = m.transactional();
          return deliver_change(change);
        } else if constexpr (std::is_same_v<M, Type> || std::is_same_v<M, Origin>) {
          return Step::Next;
        } else {
          // Streamed and two-phase transactions are not requested here.
          return fail(
              CdcFault(MalformedMessage{0, 0},
                       fmt::format("slot \"{}\" sent a {} message, which this session did "
                                   "not ask for",
                                   shared_.config.slot_name, message_name(decoded.message))));
        }
      },
      decoded.message);
}

ChangeDelivery::Step ChangeDelivery::deliver_change(Change& change) {
  const uint64_t now = core::unix_now_ns();
  const bool transactional = change.kind != ChangeKind::Message || change.transactional;
  if (transactional) {
    change.xid = xid_;
    change.commit_lsn = commit_lsn_;
    change.commit_time_ns = commit_time_ns_;
    change.ordinal = ordinal_++;
  } else {
    change.commit_time_ns = static_cast<int64_t>(now);
  }
  change.sequence = counters_.sequence.fetch_add(1, std::memory_order_relaxed) + 1;
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
      if (events_) {
        core::TriggerEvent event{};
        event.kind_hash = kind_hash_;
        event.source_hash = slot_hash_;
        event.sequence = change.sequence;
        event.timestamp_ns = now;
        event.payload_bytes = static_cast<uint32_t>(change.row_bytes);
        event.op = core::TriggerOp::Fire;
        events_(event);
      }
    }
    sink_.on_change(change);
  } catch (...) {
    return fail(caught_as_delivery_fault(
        change.sequence, fmt::format("the change callback failed on change {}", change.sequence)));
  }
  if (row && shared_.config.log_changes) {
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
  if (!in_transaction_ || bytes_since_flush_ >= kFlushEveryBytes) {
    // Between transactions (a non-transactional message) or in a big one:
    // the sink flushes, but only whole transactions become confirmable.
    flush_and_publish();
    if (fault_) return Step::Fault;
  }
  return Step::Next;
}

void ChangeDelivery::flush_and_publish() {
  if (flush_failed_) return;
  if (published_lsn_ == delivered_lsn_ && published_frames_ == frames_done_ &&
      bytes_since_flush_ == 0) {
    return;
  }
  try {
    sink_.flush();
  } catch (...) {
    flush_failed_ = true;
    fail(caught_as_delivery_fault(counters_.sequence.load(), "flushing the output failed"));
    return;
  }
  bytes_since_flush_ = 0;
  shared_.ack.publish_delivered(delivered_lsn_, frames_done_);
  if (delivered_lsn_ != published_lsn_ && shared_.ack_wake_wanted.exchange(false)) {
    shared_.io_wake.notify();
  }
  published_lsn_ = delivered_lsn_;
  published_frames_ = frames_done_;
}

bool ChangeDelivery::emit_control_event(core::TriggerOp op) {
  if (!events_) return true;
  core::TriggerEvent event{};
  event.kind_hash = kind_hash_;
  event.source_hash = slot_hash_;
  event.sequence = counters_.sequence.fetch_add(1, std::memory_order_relaxed) + 1;
  event.timestamp_ns = core::unix_now_ns();
  event.op = op;
  try {
    events_(event);
    return true;
  } catch (...) {
    fail(caught_as_delivery_fault(
        event.sequence, fmt::format("the event callback failed on {}", core::to_string(op))));
  }
  return false;
}

bool ChangeDelivery::wait_while_paused() {
  // What was delivered before the pause is confirmed during it.
  flush_and_publish();
  if (fault_ || !emit_control_event(core::TriggerOp::PauseAck)) return false;
  {
    std::unique_lock lock(shared_.control_mutex);
    shared_.control_changed.wait(lock, [&] {
      return !shared_.paused.load() || shared_.stop.load() || shared_.io_finished.load();
    });
  }
  if (shared_.stop.load()) return true;  // the loop sees it
  if (shared_.paused.load()) {
    // Still paused, but the I/O thread is gone: its fault (a bad password,
    // no such slot) ends start() now, not at resume().
    if (auto fault = shared_.fault()) fail(std::move(*fault));
    return false;
  }
  return emit_control_event(core::TriggerOp::ResumeAck);
}

}  // namespace vil::cdc
