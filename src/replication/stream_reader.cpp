#include "vil/replication/stream_reader.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <random>

#include <fmt/format.h>

#include "poll_wait.hpp"
#include "reconnect_backoff.hpp"
#include "replication_command.hpp"
#include "replication_connection.hpp"
#include "session_protocol.hpp"
#include "session_setup.hpp"
#include "status_interval.hpp"
#include "vil/core/unix_time.hpp"
#include "vil/pgoutput/frames.hpp"
#include "vil/pgoutput/lsn.hpp"

namespace vil::replication {

using std::chrono::milliseconds;

// One session: its connection, what set-up learned, and its protocol state.
struct StreamReader::Session {
  std::unique_ptr<ReplicationConnection> conn;
  SessionInfo info;
  SessionProtocol protocol;
};

StreamReader::StreamReader(StreamSettings settings, FrameQueue& queue, NoticeCallback on_notice)
    : settings_(std::move(settings)),
      queue_(queue),
      on_notice_(std::move(on_notice)),
      server_wal_end_(settings_.streamed_up_to),
      jitter_seed_(std::random_device{}()) {
  queue_.set_producer_wake(&wake_);
}

StreamReader::~StreamReader() = default;

void StreamReader::set_reading(bool reading) {
  reading_.store(reading);
  wake_.notify();
}

void StreamReader::confirm(uint64_t lsn) {
  uint64_t seen = confirmable_.load();
  while (lsn > seen && !confirmable_.compare_exchange_weak(seen, lsn)) {
  }
  if (lsn > seen && confirm_wake_wanted_.exchange(false)) wake_.notify();
}

void StreamReader::snapshot_read() {
  snapshot_read_.store(true);
  wake_.notify();
}

void StreamReader::finish() {
  finishing_.store(true);
  wake_.notify();
}

StreamStats StreamReader::stats() const {
  return StreamStats{status_updates_sent_.load(), stream_errors_.load(), bytes_received_.load(),
                     confirmed_lsn_.load(), server_wal_end_.load(), streaming_.load()};
}

void StreamReader::fail(StreamError error) {
  if (!error_) error_ = std::move(error);
}

bool StreamReader::notice(const std::string& text) {
  if (!on_notice_) return true;
  // The owner's callback: what it throws ends the stream with an error,
  // never the process (std::terminate on the I/O thread).
  std::string why;
  try {
    on_notice_(text);
    return true;
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "an exception that is not a std::exception";
  }
  fail(StreamError(StreamErrc::NoticeFailed, fmt::format("the notice callback failed: {}", why)));
  notice_failed_ = true;
  return false;
}

void StreamReader::run() {
  try {
    reconnect_loop();
  } catch (const std::exception& e) {
    fail(StreamError(StreamErrc::ConnectionLost,
                     fmt::format("the replication thread for slot \"{}\" failed: {}",
                                 settings_.slot_name, e.what())));
  } catch (...) {
    fail(StreamError(
        StreamErrc::ConnectionLost,
        fmt::format("the replication thread for slot \"{}\" failed", settings_.slot_name)));
  }
  // The last item: error_ is the delivery side's to read once it is taken.
  std::vector<QueueItem> last;
  last.emplace_back(IoFinished{});
  queue_.push(last, 0);
}

void StreamReader::reconnect_loop() {
  ReconnectState reconnects(ReconnectPolicy{settings_.initial_backoff, settings_.max_backoff,
                                            settings_.max_reconnect_attempts},
                            jitter_seed_);
  while (!finishing_.load() && !notice_failed_) {
    const auto began = Clock::now();
    SessionEnd result = run_session();
    if (result.end == End::Finished) break;
    if (result.end == End::Fatal) {
      fail(std::move(*result.error));
      break;
    }
    stream_errors_.fetch_add(1);
    if (settings_.temporary_slot) {
      // The server dropped the slot with the connection: no reconnect can
      // bring back what it had not sent yet.
      StreamError lost = slot_lost_error(settings_, server_wal_end_.load());
      lost.message = fmt::format("{}; {}", result.error->message, lost.message);
      fail(std::move(lost));
      break;
    }
    auto next =
        reconnects.after_lost_session(result.streamed, result.received_data, Clock::now() - began);
    if (!next) {
      result.error->message = fmt::format("{} (gave up after {} reconnect attempts)",
                                          result.error->message, settings_.max_reconnect_attempts);
      fail(std::move(*result.error));
      break;
    }
    if (!notice(fmt::format("{}; reconnecting in {} ms (attempt {})", result.error->message,
                            next->wait.count(), next->attempt)) ||
        !back_off(next->wait) || !wait_for_delivery()) {
      break;
    }
  }
}

StreamReader::SessionEnd StreamReader::run_session() {
  const bool streamed_before = settings_.slot_streamed_before || ever_streamed_.load();
  if (settings_.temporary_slot && streamed_before) {
    // An earlier run's temporary slot went with its connection.
    return {End::Fatal, slot_lost_error(settings_, server_wal_end_.load())};
  }
  // A first connection that fails is the owner's to fix, not ours to retry.
  const auto refused = [&](StreamError error) {
    const bool retry = ever_streamed_.load() && error.is_retryable();
    return SessionEnd{retry ? End::Lost : End::Fatal, std::move(error)};
  };
  const Interrupt interrupt{&wake_, &finishing_};
  auto conn = ReplicationConnection::connect(
      ConnectOptions{settings_.conn_string, settings_.application_name, milliseconds(30'000)},
      interrupt);
  if (!conn) {
    if (conn.error().interrupted) return {End::Finished, std::nullopt};
    return refused(connect_error(settings_, conn.error()));
  }
  SlotRules slot_rules{settings_.create_slot && !streamed_before, std::nullopt, first_address_,
                       first_timeline_};
  if (streamed_before) slot_rules.streamed_up_to = server_wal_end_.load();
  auto info = set_up_session(**conn, settings_, slot_rules);
  // A command cut short by finish() failed only because of it.
  if (!info && (*conn)->interrupted()) return {End::Finished, std::nullopt};
  // A server going down under a set-up command (57P01, 08xxx) is as
  // retryable as a lost stream; so is a slot still held by our previous
  // walsender.
  if (!info) return refused(info.error());
  if (info->failover_turned_on &&
      !notice(fmt::format("slot \"{}\" was made without failover: turned it on "
                          "(ALTER_REPLICATION_SLOT), so standbys with sync_replication_slots = on "
                          "keep a copy of it",
                          settings_.slot_name))) {
    return {End::Finished, std::nullopt};
  }
  if (settings_.export_snapshot && !settings_.resuming_snapshot && !info->slot_created &&
      !ever_streamed_.load() &&
      !notice(fmt::format("slot \"{}\" exists: streaming from it, without an initial snapshot "
                          "(one is read only when the slot is created)",
                          settings_.slot_name))) {
    return {End::Finished, std::nullopt};
  }
  if (!info->exported_snapshot.empty()) {
    std::vector<QueueItem> exported;
    exported.emplace_back(
        SnapshotExported{info->consistent_point, fixed_text<64>(info->exported_snapshot)});
    queue_.push(exported, 0);
    // Not read whole: the temporary slot that exported the snapshot goes
    // with this connection, so the same settings start over (a resumable
    // snapshot's slot stays, and the owner finishes it next time).
    if (!wait_for_snapshot()) return {End::Finished, std::nullopt};
    // Every row was delivered: the slot outlives a stop that came since.
    if (auto made = make_snapshot_slot_permanent(**conn, settings_, *info); !made) {
      return {End::Fatal, made.error()};
    }
    if (finishing_.load()) return {End::Finished, std::nullopt};
  }
  const uint64_t start_lsn = confirmable_.load();
  auto command =
      start_replication_command(settings_, info->server_version, info->protocol_version, start_lsn);
  if (!command) {
    return {End::Fatal, StreamError(StreamErrc::SettingInvalid,
                                    "the slot or publication name contains a NUL byte")
                            .with_setting("publication")};
  }
  auto started = (*conn)->start_copy_both(*command);
  if (!started && (*conn)->interrupted()) return {End::Finished, std::nullopt};
  if (!started) return refused(start_error(settings_, started.error()));
  if (ever_streamed_.load() &&
      !notice(fmt::format("reconnected to slot \"{}\" at {}", settings_.slot_name,
                          pgoutput::format_lsn(pgoutput::Lsn{start_lsn}).view()))) {
    return {End::Finished, std::nullopt};
  }
  if (!ever_streamed_.load()) {
    first_address_ = info->address;
    first_timeline_ = info->timeline;
  }
  ever_streamed_.store(true);
  const Peer peer = (*conn)->unix_socket()         ? Peer::UnixSocket
                    : (*conn)->peer_on_same_host() ? Peer::SameHostTcp
                                                   : Peer::Remote;
  if (peer == Peer::SameHostTcp) {
    (*conn)->set_receive_buffer(SessionProtocol::kSameHostReceiveBuffer);
  }
  Session session{
      std::move(*conn), std::move(*info),
      SessionProtocol(status_interval(settings_.status_interval, info->wal_sender_timeout_ms),
                      Clock::now(), peer)};
  std::vector<QueueItem> begin;
  begin.emplace_back(SessionStarted{session.info.protocol_version, session.info.server_wal_end,
                                    fixed_text<16>(session.info.server_encoding)});
  queue_.push(begin, 0);
  streaming_.store(true);
  SessionEnd end = stream(session);
  streaming_.store(false);
  end.streamed = true;
  end.received_data = session.protocol.received_data();
  return end;
}

StreamReader::SessionEnd StreamReader::stream_ended(const Session& session) const {
  StreamError error = stream_end_error(settings_, session.info, session.conn->stream_error());
  const bool retry = error.code == StreamErrc::ConnectionLost;
  return {retry ? End::Lost : End::Fatal, std::move(error)};
}

bool StreamReader::send_status_update(Session& session) {
  const uint64_t flush = confirmable_.load();
  const pgoutput::Lsn lsn{flush};
  auto frame = pgoutput::encode_standby_status_update(
      lsn, lsn, lsn, pgoutput::PgTimestamp::from_unix_ns(static_cast<int64_t>(core::unix_now_ns())),
      false);
  if (!session.conn->send_copy_data(
          {reinterpret_cast<const uint8_t*>(frame.data()), frame.size()})) {
    return false;
  }
  session.protocol.status_sent(Clock::now(), flush);
  status_updates_sent_.fetch_add(1);
  confirmed_lsn_.store(flush);
  return true;
}

StreamReader::SessionEnd StreamReader::stream(Session& session) {
  ReplicationConnection& conn = *session.conn;
  SessionProtocol& protocol = session.protocol;
  auto lost = [&](std::string_view what) {
    return SessionEnd{End::Lost,
                      StreamError(StreamErrc::ConnectionLost,
                                  fmt::format("the connection for slot \"{}\" was lost ({}): {}",
                                              settings_.slot_name, what, conn.error_message()))};
  };
  std::vector<QueueItem> batch;
  bool woke_for_data = true;   // the last wait ended for the socket or a timer, not the wake fd
  size_t read_since_wait = 0;  // what one wake brought, over all its passes

  for (;;) {
    if (finishing_.load()) {
      send_status_update(session);
      // The server's answer is a few bytes: below a raised low-water mark
      // poll() would not report it at all.
      if (protocol.coalescing()) conn.set_receive_low_water(1);
      conn.finish_copy(milliseconds(500));
      return {End::Finished, std::nullopt};
    }
    const bool reading = reading_.load() && queue_.has_room();
    bool would_block = !reading;
    if (reading) {
      size_t batch_bytes = 0;
      bool refilled = false;
      while (batch_bytes < SessionProtocol::kBatchBytes) {
        CopyFrame frame;
        auto status = conn.read_frame(frame);
        if (status == ReplicationConnection::ReadStatus::WouldBlock) {
          // libpq takes at most its buffer's worth per read; in bulk mode
          // poll() would not report the rest until the low-water mark, and
          // a full socket stalls the server. Read again until a read brings
          // no whole frame.
          if (protocol.coalescing() && !refilled) {
            if (!conn.consume_input()) {
              queue_.push(batch, batch_bytes);
              return lost("reading");
            }
            refilled = true;
            continue;
          }
          would_block = true;
          break;
        }
        refilled = false;
        if (status != ReplicationConnection::ReadStatus::Frame) {
          queue_.push(batch, batch_bytes);
          if (status == ReplicationConnection::ReadStatus::Ended) return stream_ended(session);
          return lost("reading");
        }
        auto incoming = protocol.on_copy_data(std::as_bytes(frame.bytes()));
        if (!incoming) {
          queue_.push(batch, batch_bytes);
          return {End::Fatal, std::move(incoming.error())};
        }
        // Kept as it moves: a lost temporary slot's message says how far.
        if (protocol.server_wal_end() > server_wal_end_.load(std::memory_order_relaxed)) {
          server_wal_end_.store(protocol.server_wal_end(), std::memory_order_relaxed);
        }
        using Kind = SessionProtocol::Incoming::Kind;
        if (incoming->kind == Kind::WalData) {
          batch_bytes += frame.size();
          WalFrame queued{incoming->lsn, {}, nullptr, frame.size()};
          queued.payload = queue_.arena().store(incoming->payload, queued.block);
          batch.emplace_back(queued);
        } else if (incoming->kind == Kind::ServerPosition) {
          batch.emplace_back(ServerPosition{incoming->lsn});
        }
      }
      bytes_received_.fetch_add(batch_bytes, std::memory_order_relaxed);
      queue_.push(batch, batch_bytes);
      read_since_wait += batch_bytes;
      // The pace is what a wake brought, however many 1 MiB passes it took.
      if (would_block) {
        if (auto low_water = protocol.paced(Clock::now(), read_since_wait, woke_for_data)) {
          conn.set_receive_low_water(*low_water);
        }
        read_since_wait = 0;
      }
    }

    if (protocol.status_due(Clock::now(), confirmable_.load()) && !send_status_update(session)) {
      return {End::Lost,
              StreamError(StreamErrc::StatusUpdateFailed,
                          fmt::format("could not send a status update for slot \"{}\": {}",
                                      settings_.slot_name, conn.error_message()))
                  .with_os_error(errno)};
    }
    if (!would_block) continue;

    // Asked before looking, so a confirmation made after the look wakes us
    // (confirm()); one made before is seen here.
    confirm_wake_wanted_.store(true);
    const uint64_t confirmable = confirmable_.load();
    if (protocol.confirm_pending(confirmable)) confirm_wake_wanted_.store(false);
    const auto deadline = protocol.wake_by(Clock::now(), confirmable);
    short events = reading && !protocol.reads_on_timer() ? POLLIN : 0;
    if (conn.has_pending_output()) events |= POLLOUT;
    const auto wait = wait_for_socket(conn.socket(), events, &wake_, deadline);
    woke_for_data = wait != WaitResult::Woken;
    switch (wait) {
      case WaitResult::Woken:
        wake_.drain();
        break;
      case WaitResult::Ready:
        if (!conn.consume_input()) return lost("reading");
        break;
      case WaitResult::Timeout:
        // Below the low-water mark, or on the timer, poll stays quiet: take
        // what is there.
        if (protocol.coalescing() && reading && !conn.consume_input()) return lost("reading");
        break;
      case WaitResult::Error:
        return lost("poll");
    }
  }
}

bool StreamReader::back_off(milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  while (!finishing_.load()) {
    pollfd fd{wake_.fd(), POLLIN, 0};
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return true;
    if (poll(&fd, 1, static_cast<int>(left)) > 0) wake_.drain();
  }
  return false;
}

bool StreamReader::wait_for_snapshot() {
  return wait_until([this] { return snapshot_read_.load(); });
}

bool StreamReader::wait_for_delivery() {
  // The queue wakes us (release()) once the delivery side took and
  // delivered everything.
  return wait_until([this] { return queue_.drained_or_notify(); });
}

bool StreamReader::wait_until(const std::function<bool()>& ready) {
  while (!finishing_.load()) {
    if (ready()) return true;
    pollfd fd{wake_.fd(), POLLIN, 0};
    if (poll(&fd, 1, -1) > 0) wake_.drain();
  }
  return ready();
}

}  // namespace vil::replication
