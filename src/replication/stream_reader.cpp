#include "replication/stream_reader.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include <fmt/format.h>

#include "core/unix_time.hpp"
#include "replication/end_lsn.hpp"
#include "replication/poll_wait.hpp"
#include "replication/reconnect_backoff.hpp"
#include "replication/replication_command.hpp"
#include "replication/status_interval.hpp"
#include "vil/log/dictionary.hpp"
#include "vil/pgoutput/frames.hpp"
#include "vil/pgoutput/lsn.hpp"

namespace vil::replication {

namespace {

using std::chrono::milliseconds;

// Bytes taken from the socket before the loop looks at the clock and the
// control lane again.
constexpr size_t kBatchBytes = 1u << 20;
// kBulkEnterBytes, or kBulkEnterReads reads, within kBulkMaxWait say the
// server is streaming in bulk: a socket full at a time, or small
// transactions that it sends a message to a packet (W2 of the benchmark: a
// wake-up every 20 us for 50-byte reads). The socket then wakes the thread
// only once kBulkLowWater bytes wait, or after kBulkMaxWait. Bulk mode lasts
// while each such wake still finds kBulkLeaveBytes, so it does not flip on
// every read. A steady 2,000 transactions a second stays below both marks.
constexpr size_t kBulkEnterBytes = 8u << 10;
constexpr uint32_t kBulkEnterReads = 32;
constexpr size_t kBulkLeaveBytes = 1u << 10;
constexpr int kBulkLowWater = 64 << 10;
constexpr std::chrono::microseconds kBulkMaxWait{2000};
// A status update that only moves the flush position forward waits at least
// this long after the previous one.
constexpr milliseconds kEarlyStatusGap{1000};

}  // namespace

bool StreamReader::notice(const std::string& text) {
  if (!shared_.on_notice) return true;
  // The owner's callback: what it throws ends the stream with a fault, never
  // the process (std::terminate on the I/O thread).
  std::string why;
  try {
    shared_.on_notice(text);
    return true;
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "an exception that is not a std::exception";
  }
  shared_.set_fault(
      cdc::CdcFault(cdc::DeliveryFailed{0}, fmt::format("the notice callback failed: {}", why)));
  notice_failed_ = true;
  return false;
}

cdc::CdcFault StreamReader::connect_fault(const ConnectError& e) const {
  const std::string redacted = cdc::redact_conn_string(shared_.config.conn_string);
  return cdc::CdcFault(
      cdc::ConnectionFailed{log::register_str(redacted), static_cast<uint32_t>(e.reason)},
      fmt::format("could not connect to PostgreSQL ({}): {}", redacted, e.message));
}

cdc::CdcFault StreamReader::start_fault(const ServerError& e) const {
  const auto& config = shared_.config;
  const uint32_t slot_hash = log::register_str(config.slot_name);
  // pgoutput reports a missing publication when it starts decoding.
  if (e.message.find("publication") != std::string::npos &&
      e.message.find("does not exist") != std::string::npos) {
    return cdc::CdcFault(cdc::PublicationNotFound{log::register_str(config.publication)},
                         fmt::format("publication \"{}\": {}", config.publication, e.text()));
  }
  if (e.sqlstate == "42704" && e.message.find("slot") != std::string::npos) {
    return cdc::CdcFault(cdc::SlotNotFound{slot_hash},
                         fmt::format("replication slot \"{}\": {}", config.slot_name, e.text()));
  }
  if (e.sqlstate.empty()) {
    return cdc::CdcFault(
        cdc::StreamClosed{slot_hash},
        fmt::format("the connection for slot \"{}\" was lost: {}", config.slot_name, e.text()));
  }
  return cdc::CdcFault(
      cdc::ReplicationStartFailed{slot_hash, cdc::pack_sqlstate(e.sqlstate)},
      fmt::format("replication on slot \"{}\" failed: {}", config.slot_name, e.text()));
}

void StreamReader::run() {
  try {
    reconnect_loop();
  } catch (const std::exception& e) {
    shared_.set_fault(cdc::CdcFault(cdc::StreamClosed{log::register_str(shared_.config.slot_name)},
                                    fmt::format("the replication thread for slot \"{}\" failed: {}",
                                                shared_.config.slot_name, e.what())));
  } catch (...) {
    shared_.set_fault(cdc::CdcFault(
        cdc::StreamClosed{log::register_str(shared_.config.slot_name)},
        fmt::format("the replication thread for slot \"{}\" failed", shared_.config.slot_name)));
  }
  std::vector<QueueItem> last;
  last.emplace_back(IoFinished{});
  shared_.queue.push(last, 0);
  shared_.io_finished.store(true);
  // The delivery thread may be paused, not waiting for frames.
  shared_.wake_delivery();
}

void StreamReader::reconnect_loop() {
  uint32_t failed_attempts = 0;
  while (!shared_.stop.load() && !notice_failed_) {
    session_streamed_ = false;
    session_received_data_ = false;
    const auto session_began = Clock::now();
    SessionResult result = run_session();
    if (result.end == End::Stopped) break;
    if (result.end == End::Fatal) {
      shared_.set_fault(std::move(*result.fault));
      break;
    }
    shared_.stream_errors.fetch_add(1);
    if (shared_.config.temporary_slot && ever_streamed_) {
      // The server dropped the slot with the connection: no reconnect can
      // bring back what it had not sent yet.
      cdc::CdcFault lost = slot_lost_fault(shared_.config, shared_.server_wal_end.load());
      shared_.set_fault(cdc::CdcFault(
          lost.detail(), fmt::format("{}; {}", result.fault->message(), lost.message())));
      break;
    }
    // Only a session that delivered something, or lasted, was a success: a
    // server that drops us right after START_REPLICATION keeps the backoff
    // growing.
    if (session_streamed_ &&
        (session_received_data_ || Clock::now() - session_began >= kHealthySessionAge)) {
      failed_attempts = 0;
    }
    ++failed_attempts;
    const auto& policy = shared_.config.reconnect;
    if (policy.max_attempts != 0 && failed_attempts > policy.max_attempts) {
      shared_.set_fault(cdc::CdcFault(result.fault->detail(),
                                      fmt::format("{} (gave up after {} reconnect attempts)",
                                                  result.fault->message(), policy.max_attempts)));
      break;
    }
    if (!back_off(failed_attempts, *result.fault) || !wait_for_delivery()) break;
  }
}

StreamReader::SessionResult StreamReader::run_session() {
  const auto& config = shared_.config;
  const bool streamed_before = shared_.slot_streamed_before || ever_streamed_;
  if (config.temporary_slot && streamed_before) {
    // An earlier run's temporary slot went with its connection.
    return {End::Fatal, slot_lost_fault(config, shared_.server_wal_end.load())};
  }
  ConnectOptions options{config.conn_string, config.application_name, milliseconds(30'000)};
  const Interrupt interrupt{&shared_.io_wake, &shared_.stop};
  auto conn = ReplicationConnection::connect(options, interrupt);
  if (!conn) {
    if (conn.error().interrupted) return {End::Stopped, std::nullopt};
    cdc::CdcFault fault = connect_fault(conn.error());
    // A first connection that fails is the owner's to fix, not ours to retry.
    bool retry = ever_streamed_ && fault.is_retryable();
    return {retry ? End::Lost : End::Fatal, std::move(fault)};
  }
  SlotRules slot_rules{config.create_slot && !streamed_before, std::nullopt};
  if (streamed_before) slot_rules.streamed_up_to = shared_.server_wal_end.load();
  auto info = set_up_session(**conn, config, slot_rules);
  // A command cut short by stop failed only because of it.
  if (!info && (*conn)->interrupted()) return {End::Stopped, std::nullopt};
  if (!info) {
    // A server going down under a set-up command (57P01 "terminating
    // connection due to administrator command", 08xxx) is as retryable as
    // a lost stream; so is a slot still held by our previous walsender.
    bool retry = ever_streamed_ && info.error().is_retryable();
    return {retry ? End::Lost : End::Fatal, info.error()};
  }
  const uint64_t start_lsn = shared_.ack.confirmable();
  auto command =
      start_replication_command(config, info->server_version, info->protocol_version, start_lsn);
  if (!command) {
    return {End::Fatal, cdc::CdcFault(cdc::ConfigInvalid{log::register_str("cdc.publication")},
                                      "the slot or publication name contains a NUL byte")};
  }
  auto started = (*conn)->start_copy_both(*command);
  if (!started && (*conn)->interrupted()) return {End::Stopped, std::nullopt};
  if (!started) {
    bool retry = ever_streamed_ && cdc::is_retryable_sqlstate(started.error().sqlstate);
    return {retry ? End::Lost : End::Fatal, start_fault(started.error())};
  }
  if (ever_streamed_ &&
      !notice(fmt::format("reconnected to slot \"{}\" at {}", config.slot_name,
                          pgoutput::format_lsn(pgoutput::Lsn{start_lsn}).view()))) {
    return {End::Stopped, std::nullopt};
  }
  ever_streamed_ = true;
  session_streamed_ = true;
  coalescing_ = false;  // a new socket
  transaction_open_ = false;
  std::vector<QueueItem> begin;
  begin.emplace_back(
      SessionStarted{info->protocol_version, SessionStarted::encoding_name(info->server_encoding)});
  shared_.queue.push(begin, 0);
  return stream(**conn, *info);
}

StreamReader::SessionResult StreamReader::stream_ended(const ServerError& e,
                                                       const SessionInfo& info) const {
  // 22021 character_not_in_repertoire, 22P05 untranslatable_character: the
  // server cannot turn the database's text into the UTF-8 the session asks
  // for. The same WAL would fail the same way after a reconnect.
  if (e.sqlstate == "22021" || e.sqlstate == "22P05") {
    const auto& config = shared_.config;
    std::string remedy =
        info.server_encoding == "SQL_ASCII"
            ? "SQL_ASCII declares no encoding, so PostgreSQL passes its bytes on unconverted and "
              "rejects those above 127 as UTF-8; re-create the database with ENCODING 'UTF8' "
              "and its text converted from the encoding it is really in, or correct the rows "
              "that hold such bytes"
            : "the database holds text that has no UTF-8 form; correct those rows";
    return {
        End::Fatal,
        cdc::CdcFault(
            cdc::StreamFailed{log::register_str(config.slot_name), cdc::pack_sqlstate(e.sqlstate)},
            fmt::format("slot \"{}\": database \"{}\" has encoding {} and the server could "
                        "not send its text as UTF-8, which vil-cdc reads: {}. {}",
                        config.slot_name, info.database,
                        info.server_encoding.empty() ? "unknown" : info.server_encoding, e.text(),
                        remedy))};
  }
  cdc::CdcFault fault = start_fault(e);
  if (cdc::is_retryable_sqlstate(e.sqlstate)) {
    return {End::Lost, cdc::CdcFault(cdc::StreamClosed{log::register_str(shared_.config.slot_name)},
                                     fault.message())};
  }
  return {End::Fatal, std::move(fault)};
}

bool StreamReader::send_status_update(ReplicationConnection& conn) {
  const uint64_t flush = shared_.ack.confirmable();
  const pgoutput::Lsn lsn{flush};
  auto frame = pgoutput::encode_standby_status_update(
      lsn, lsn, lsn, pgoutput::PgTimestamp::from_unix_ns(static_cast<int64_t>(core::unix_now_ns())),
      false);
  if (!conn.send_copy_data({reinterpret_cast<const uint8_t*>(frame.data()), frame.size()})) {
    return false;
  }
  shared_.status_updates_sent.fetch_add(1);
  shared_.confirmed_lsn.store(flush);
  last_sent_flush_ = flush;
  return true;
}

StreamReader::SessionResult StreamReader::stream(ReplicationConnection& conn,
                                                 const SessionInfo& info) {
  const uint32_t slot_hash = log::register_str(shared_.config.slot_name);
  auto lost = [&](std::string what) {
    return SessionResult{
        End::Lost,
        cdc::CdcFault(cdc::StreamClosed{slot_hash},
                      fmt::format("the connection for slot \"{}\" was lost ({}): {}",
                                  shared_.config.slot_name, what, conn.error_message()))};
  };

  const milliseconds interval =
      status_interval(shared_.config.status_interval, info.wal_sender_timeout_ms);
  auto last_status = Clock::now();
  auto next_status = last_status;  // one at once: the server learns where we are
  std::vector<QueueItem> batch;

  for (;;) {
    const bool stopping = shared_.stop.load();
    if (stopping && shared_.delivery_done.load()) {
      send_status_update(conn);
      // The server's answer is a few bytes: below a raised low-water mark
      // poll() would not report it at all.
      if (coalescing_) conn.set_receive_low_water(1);
      conn.finish_copy(milliseconds(500));
      return {End::Stopped, std::nullopt};
    }
    const bool reading = !stopping && !shared_.paused.load() && shared_.queue.has_room();
    bool would_block = !reading;
    bool reply_requested = false;
    if (reading) {
      size_t batch_bytes = 0;
      bool refilled = false;
      while (batch_bytes < kBatchBytes) {
        CopyFrame frame;
        auto status = conn.read_frame(frame);
        if (status == ReplicationConnection::ReadStatus::WouldBlock) {
          // libpq takes at most its buffer's worth per read; in bulk mode
          // poll() would not report the rest until the low-water mark, and
          // a full socket stalls the server. Read again until a read brings
          // no whole frame.
          if (coalescing_ && !refilled) {
            if (!conn.consume_input()) {
              shared_.queue.push(batch, batch_bytes);
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
          shared_.queue.push(batch, batch_bytes);
          if (status == ReplicationConnection::ReadStatus::Ended) {
            return stream_ended(conn.stream_error(), info);
          }
          return lost("reading");
        }
        auto decoded = pgoutput::decode_copy_data(std::as_bytes(frame.bytes()));
        if (!decoded) {
          shared_.queue.push(batch, batch_bytes);
          const auto& e = decoded.error();
          return {End::Fatal,
                  cdc::CdcFault(
                      cdc::MalformedMessage{e.message_type, static_cast<uint32_t>(e.offset)},
                      fmt::format("the server sent a frame that is not valid: {}", e.message))};
        }
        if (const auto* data = std::get_if<pgoutput::XLogData>(&*decoded)) {
          if (!data->payload.empty()) {
            auto type = static_cast<char>(data->payload[0]);
            if (type == 'B')
              transaction_open_ = true;
            else if (type == 'C')
              transaction_open_ = false;
          }
          uint64_t end = data->wal_end.value;
          if (end > shared_.server_wal_end.load(std::memory_order_relaxed)) {
            shared_.server_wal_end.store(end, std::memory_order_relaxed);
          }
          ++frames_received_;
          session_received_data_ = true;
          batch_bytes += frame.size();
          WalFrame queued{data->wal_start.value, {}, nullptr, frame.size()};
          queued.payload = shared_.arena.store(data->payload, queued.block);
          batch.emplace_back(queued);
        } else {
          const auto& keepalive = std::get<pgoutput::PrimaryKeepalive>(*decoded);
          uint64_t end = keepalive.wal_end.value;
          if (end > shared_.server_wal_end.load(std::memory_order_relaxed)) {
            shared_.server_wal_end.store(end, std::memory_order_relaxed);
          }
          shared_.ack.note_server_position(end, frames_received_, transaction_open_);
          if (shared_.end_lsn != 0 && !transaction_open_ &&
              server_passed_end(end, shared_.end_lsn, info.server_wal_end)) {
            batch.emplace_back(ServerCaughtUp{end});
          }
          reply_requested = reply_requested || keepalive.reply_requested;
        }
      }
      shared_.bytes_received.fetch_add(batch_bytes, std::memory_order_relaxed);
      shared_.queue.push(batch, batch_bytes);
      // Bulk streaming: wake for a socket full of frames, not for each
      // packet (the wake-ups, not the decoding, were most of the CPU). A
      // trickle of small transactions keeps waking per packet: no latency.
      const auto read_at = Clock::now();
      if (read_at - window_start_ > kBulkMaxWait) {
        window_start_ = read_at;
        window_bytes_ = 0;
        window_reads_ = 0;
      }
      window_bytes_ += batch_bytes;
      window_reads_ += batch_bytes > 0 ? 1 : 0;
      const bool bulk = coalescing_
                            ? batch_bytes >= kBulkLeaveBytes
                            : window_bytes_ >= kBulkEnterBytes || window_reads_ >= kBulkEnterReads;
      // Only a wake by the socket or the bulk timer says how fast data comes.
      if (bulk != coalescing_ && woke_for_data_) {
        conn.set_receive_low_water(bulk ? kBulkLowWater : 1);
        coalescing_ = bulk;
      }
    }

    auto now = Clock::now();
    const uint64_t flush = shared_.ack.confirmable();
    const bool early = flush > last_sent_flush_ && now - last_status >= kEarlyStatusGap;
    if (reply_requested || now >= next_status || early) {
      if (!send_status_update(conn)) {
        return {End::Lost,
                cdc::CdcFault(cdc::KeepaliveFailed{errno},
                              fmt::format("could not send a status update for slot "
                                          "\"{}\": {}",
                                          shared_.config.slot_name, conn.error_message()))};
      }
      last_status = now;
      next_status = now + interval;
    }
    if (!would_block) continue;

    auto deadline = next_status;
    // While coalescing, what is below the low-water mark is read after a
    // short wait at most.
    if (coalescing_) deadline = std::min(deadline, Clock::now() + kBulkMaxWait);
    // Asked before looking, so a delivery published after the look wakes us
    // (ChangeDelivery::flush_and_publish); one published before is seen here.
    shared_.ack_wake_wanted.store(true);
    if (shared_.ack.confirmable() > last_sent_flush_) {
      shared_.ack_wake_wanted.store(false);
      deadline = std::min(deadline, last_status + kEarlyStatusGap);
    }
    short events = reading ? POLLIN : 0;
    if (conn.has_pending_output()) events |= POLLOUT;
    const auto wait = wait_for_socket(conn.socket(), events, &shared_.io_wake, deadline);
    woke_for_data_ = wait != WaitResult::Woken;
    switch (wait) {
      case WaitResult::Woken:
        shared_.io_wake.drain();
        break;
      case WaitResult::Ready:
        if (!conn.consume_input()) return lost("reading");
        break;
      case WaitResult::Timeout:
        // Below the low-water mark poll stays quiet: take what is there.
        if (coalescing_ && reading && !conn.consume_input()) return lost("reading");
        break;
      case WaitResult::Error:
        return lost("poll");
    }
  }
}

bool StreamReader::back_off(uint32_t attempt, const cdc::CdcFault& cause) {
  std::uniform_real_distribution<double> spread(0.8, 1.2);
  const milliseconds wait = backoff_delay(shared_.config.reconnect, attempt, spread(jitter_));
  if (!notice(fmt::format("{}; reconnecting in {} ms (attempt {})", cause.message(), wait.count(),
                          attempt))) {
    return false;
  }
  const auto deadline = Clock::now() + wait;
  while (!shared_.stop.load()) {
    pollfd fd{shared_.io_wake.fd(), POLLIN, 0};
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return true;
    if (poll(&fd, 1, static_cast<int>(left)) > 0) shared_.io_wake.drain();
  }
  return false;
}

bool StreamReader::wait_for_delivery() {
  while (!shared_.stop.load()) {
    if (shared_.queue.drained()) return true;
    pollfd fd{shared_.io_wake.fd(), POLLIN, 0};
    if (poll(&fd, 1, 20) > 0) shared_.io_wake.drain();
  }
  return false;
}

}  // namespace vil::replication
