#include "replication_connection.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "poll_wait.hpp"
#include "vil/replication/stream_settings.hpp"

namespace vil::replication {

namespace {

// libpq's messages end with a newline and may run over several lines
// ("...Connection refused\n\tIs the server running..."): a fault message is
// one line, so they are joined.
std::string trim_message(const char* text) {
  std::string s;
  bool space = false;
  for (const char* p = text ? text : ""; *p != '\0'; ++p) {
    const bool blank = *p == '\n' || *p == '\t' || *p == '\r' || *p == ' ';
    if (blank) {
      space = !s.empty();
      continue;
    }
    if (space) s += ' ';
    space = false;
    s += *p;
  }
  return s;
}

ServerError error_from_result(PGresult* result, PGconn* conn) {
  ServerError e;
  auto field = [&](int code) {
    const char* v = result ? PQresultErrorField(result, code) : nullptr;
    return std::string(v ? v : "");
  };
  e.sqlstate = field(PG_DIAG_SQLSTATE);
  e.message = field(PG_DIAG_MESSAGE_PRIMARY);
  e.detail = field(PG_DIAG_MESSAGE_DETAIL);
  e.hint = field(PG_DIAG_MESSAGE_HINT);
  if (e.message.empty()) e.message = trim_message(PQerrorMessage(conn));
  return e;
}

// A libpq notice processor that prints nothing.
void drop_notice(void* /*arg*/, const char* /*message*/) {}

// Copies and frees a string libpq allocated (empty when it failed).
std::string take_libpq_string(char* text) {
  if (text == nullptr) return {};
  std::string out(text);
  PQfreemem(text);
  return out;
}

}  // namespace

CopyFrame::CopyFrame(CopyFrame&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

CopyFrame& CopyFrame::operator=(CopyFrame&& other) noexcept {
  if (this != &other) {
    if (data_) PQfreemem(data_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

CopyFrame::~CopyFrame() {
  if (data_) PQfreemem(data_);
}

ConnectFailure classify_connect_error(std::string_view message, bool needs_password) {
  auto has = [&](std::string_view part) { return message.find(part) != std::string_view::npos; };
  if (needs_password || has("password authentication failed") || has("no pg_hba.conf entry") ||
      has("authentication failed") || (has("role \"") && has("does not exist")) ||
      has("no password supplied") || has("password is required")) {
    return ConnectFailure::AuthFailed;
  }
  // TLS that proved no identity: the server's certificate is not trusted or
  // names another host, the server wanted the client's, channel binding
  // failed, or the server offers no TLS the string requires. As with a
  // wrong password, trying again meets the same answer.
  if (has("certificate verify failed") || has("does not match host name") ||
      has("requires a valid client certificate") || has("channel binding") ||
      has("server does not support SSL")) {
    return ConnectFailure::AuthFailed;
  }
  if (has("must be superuser or replication role") ||
      has("permission denied to start WAL sender") || has("must have the REPLICATION attribute")) {
    return ConnectFailure::NotReplication;
  }
  if (has("database \"") && has("does not exist")) return ConnectFailure::BadConnString;
  // A name server that fails for now (EAI_AGAIN) is not a wrong host name:
  // while a server restarts, its name may not resolve for a moment.
  if (has("could not translate host name") &&
      (has("Temporary failure in name resolution") || has("try again"))) {
    return ConnectFailure::Unreachable;
  }
  if (has("invalid connection option") || has("missing \"=\"") || has("invalid URI") ||
      has("unterminated quoted string") || has("could not translate host name")) {
    return ConnectFailure::BadConnString;
  }
  if (has("shutting down") || has("starting up") || has("in recovery mode") ||
      has("not yet accepting connections") || has("terminating connection") ||
      has("server closed the connection")) {
    return ConnectFailure::ServerShutdown;
  }
  if (has("Connection refused") || has("timeout expired") || has("could not connect") ||
      has("No route to host") || has("Network is unreachable") || has("Connection timed out") ||
      (has("on socket") && has("No such file or directory"))) {
    return ConnectFailure::Unreachable;
  }
  return ConnectFailure::Other;
}

std::expected<std::unique_ptr<ReplicationConnection>, ConnectError> ReplicationConnection::connect(
    const ConnectOptions& options, const Interrupt& interrupt) {
  const std::string options_value = session_options(options.conn_string);
  const char* keywords[] = {
      "dbname", "replication", "options", "fallback_application_name", "client_encoding", nullptr};
  const char* values[] = {options.conn_string.c_str(),      "database", options_value.c_str(),
                          options.application_name.c_str(), "UTF8",     nullptr};
  PGconn* conn = PQconnectStartParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    return std::unexpected(ConnectError{ConnectFailure::Other, "out of memory", false});
  }
  // libpq would print the server's notices on stderr, which carries only
  // vil-cdc's own lines: a server going down warns every session that it
  // terminates it, and the lost stream is then said in vil-cdc's words.
  PQsetNoticeProcessor(conn, drop_notice, nullptr);
  auto fail = [&](std::string message, bool interrupted = false) {
    bool needs_password = PQconnectionNeedsPassword(conn) != 0;
    PQfinish(conn);
    auto reason = classify_connect_error(message, needs_password);
    return std::unexpected(ConnectError{reason, std::move(message), interrupted});
  };
  if (PQstatus(conn) == CONNECTION_BAD) return fail(trim_message(PQerrorMessage(conn)));

  const auto deadline = Clock::now() + options.timeout;
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) return fail(trim_message(PQerrorMessage(conn)));
    short events = status == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    switch (wait_for_socket(PQsocket(conn), events, interrupt, deadline)) {
      case WaitResult::Ready:
        break;
      case WaitResult::Woken:
        return fail("interrupted before the connection was up", true);
      case WaitResult::Timeout:
        return fail(
            fmt::format("timeout expired after {} ms while connecting", options.timeout.count()));
      case WaitResult::Error:
        return fail("poll() failed while connecting");
    }
    status = PQconnectPoll(conn);
  }
  if (PQsetnonblocking(conn, 1) != 0) return fail(trim_message(PQerrorMessage(conn)));
  return std::unique_ptr<ReplicationConnection>(new ReplicationConnection(conn, interrupt));
}

ReplicationConnection::~ReplicationConnection() {
  PQfinish(conn_);
}

int ReplicationConnection::server_version() const {
  return PQserverVersion(conn_);
}

std::string ReplicationConnection::address() const {
  const char* host = PQhost(conn_);
  const char* port = PQport(conn_);
  return fmt::format("{}:{}", host != nullptr ? host : "", port != nullptr ? port : "");
}

std::string ReplicationConnection::parameter(const char* name) const {
  const char* value = PQparameterStatus(conn_, name);
  return value != nullptr ? std::string(value) : std::string();
}

int ReplicationConnection::socket() const {
  return PQsocket(conn_);
}

std::string ReplicationConnection::error_message() const {
  return trim_message(PQerrorMessage(conn_));
}

std::expected<Rows, ServerError> ReplicationConnection::execute_uninterrupted(
    const std::string& command) {
  const Interrupt saved = interrupt_;
  interrupt_ = Interrupt{};
  auto result = execute(command);
  interrupt_ = saved;
  return result;
}

std::expected<Rows, ServerError> ReplicationConnection::execute(const std::string& command) {
  if (auto sent = send_command(command); !sent) return std::unexpected(sent.error());
  Rows rows;
  std::optional<ServerError> error;
  for (;;) {
    if (!await_result(Clock::now() + std::chrono::seconds(60), interrupt_)) {
      return std::unexpected(error_from_result(nullptr, conn_));
    }
    PGresult* result = PQgetResult(conn_);
    if (result == nullptr) break;
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK) {
      for (int r = 0; r < PQntuples(result); ++r) {
        auto& row = rows.emplace_back();
        for (int c = 0; c < PQnfields(result); ++c) {
          if (PQgetisnull(result, r, c))
            row.emplace_back(std::nullopt);
          else
            row.emplace_back(std::string(PQgetvalue(result, r, c), PQgetlength(result, r, c)));
        }
      }
    } else if (status != PGRES_COMMAND_OK && !error) {
      error = error_from_result(result, conn_);
    }
    PQclear(result);
  }
  if (error) return std::unexpected(*error);
  return rows;
}

std::string ReplicationConnection::quote_identifier(std::string_view name) const {
  return take_libpq_string(PQescapeIdentifier(conn_, name.data(), name.size()));
}

std::string ReplicationConnection::quote_literal(std::string_view text) const {
  return take_libpq_string(PQescapeLiteral(conn_, text.data(), text.size()));
}

std::expected<void, ServerError> ReplicationConnection::send_command(const std::string& command) {
  if (PQsendQuery(conn_, command.c_str()) == 0) {
    return std::unexpected(error_from_result(nullptr, conn_));
  }
  while (PQflush(conn_) == 1) {
    switch (
        wait_for_socket(socket(), POLLOUT, interrupt_, Clock::now() + std::chrono::seconds(30))) {
      case WaitResult::Ready:
        break;
      case WaitResult::Woken:
        return std::unexpected(ServerError{"", "interrupted by stop", "", ""});
      default:
        return std::unexpected(ServerError{"", "timed out sending a command", "", ""});
    }
  }
  return {};
}

bool ReplicationConnection::await_result(Clock::time_point deadline, const Interrupt& interrupt) {
  while (PQisBusy(conn_)) {
    if (wait_for_socket(socket(), POLLIN, interrupt, deadline) != WaitResult::Ready ||
        PQconsumeInput(conn_) == 0) {
      return false;
    }
  }
  return true;
}

std::expected<void, ServerError> ReplicationConnection::start_copy_both(
    const std::string& command) {
  if (auto sent = send_command(command); !sent) return std::unexpected(sent.error());
  if (!await_result(Clock::now() + std::chrono::seconds(60), interrupt_)) {
    return std::unexpected(error_from_result(nullptr, conn_));
  }
  PGresult* result = PQgetResult(conn_);
  if (result == nullptr) return std::unexpected(error_from_result(nullptr, conn_));
  if (PQresultStatus(result) == PGRES_COPY_BOTH) {
    PQclear(result);
    return {};
  }
  ServerError e = error_from_result(result, conn_);
  PQclear(result);
  // Drain the rest so the connection stays usable for a message.
  while ((result = PQgetResult(conn_)) != nullptr) PQclear(result);
  return std::unexpected(e);
}

ReplicationConnection::ReadStatus ReplicationConnection::read_frame(CopyFrame& frame) {
  char* buffer = nullptr;
  int n = PQgetCopyData(conn_, &buffer, /*async=*/1);
  if (n > 0) {
    frame = CopyFrame(buffer, n);
    return ReadStatus::Frame;
  }
  if (n == 0) return ReadStatus::WouldBlock;
  if (n == -1) return ReadStatus::Ended;
  return ReadStatus::Failed;
}

bool ReplicationConnection::consume_input() {
  return PQconsumeInput(conn_) != 0;
}

bool ReplicationConnection::send_copy_data(std::span<const uint8_t> bytes) {
  if (PQputCopyData(conn_, reinterpret_cast<const char*>(bytes.data()),
                    static_cast<int>(bytes.size())) != 1) {
    return false;
  }
  return PQflush(conn_) >= 0;
}

bool ReplicationConnection::has_pending_output() const {
  return PQisnonblocking(conn_) && PQflush(conn_) == 1;
}

void ReplicationConnection::set_receive_low_water(int bytes) {
  // Best effort: without it the loop only wakes more often.
  setsockopt(socket(), SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes);
}

bool ReplicationConnection::peer_on_same_host() const {
  sockaddr_storage peer{};
  sockaddr_storage own{};
  socklen_t peer_len = sizeof peer;
  socklen_t own_len = sizeof own;
  if (getpeername(socket(), reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 ||
      getsockname(socket(), reinterpret_cast<sockaddr*>(&own), &own_len) != 0 ||
      peer.ss_family != own.ss_family) {
    return false;
  }
  // Both ends on one host: a loopback address, or the kernel picked the
  // server's own address as ours (the host's address, routed through lo).
  if (peer.ss_family == AF_INET) {
    const auto& p = reinterpret_cast<const sockaddr_in&>(peer);
    const auto& o = reinterpret_cast<const sockaddr_in&>(own);
    return p.sin_addr.s_addr == o.sin_addr.s_addr || (ntohl(p.sin_addr.s_addr) >> 24) == 127;
  }
  if (peer.ss_family == AF_INET6) {
    const auto& p = reinterpret_cast<const sockaddr_in6&>(peer);
    const auto& o = reinterpret_cast<const sockaddr_in6&>(own);
    return std::memcmp(&p.sin6_addr, &o.sin6_addr, sizeof p.sin6_addr) == 0 ||
           IN6_IS_ADDR_LOOPBACK(&p.sin6_addr);
  }
  return false;  // a Unix-domain socket: no TCP window to keep shut
}

bool ReplicationConnection::unix_socket() const {
  sockaddr_storage own{};
  socklen_t own_len = sizeof own;
  return getsockname(socket(), reinterpret_cast<sockaddr*>(&own), &own_len) == 0 &&
         own.ss_family == AF_UNIX;
}

void ReplicationConnection::set_receive_buffer(int bytes) {
  // Best effort: without it the server only pays more per send.
  setsockopt(socket(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

void ReplicationConnection::finish_copy(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  if (PQputCopyEnd(conn_, nullptr) != 1) return;
  while (PQflush(conn_) == 1) {
    if (wait_for_socket(socket(), POLLOUT, nullptr, deadline) != WaitResult::Ready) return;
  }
  // The server answers CopyDone after the data it had in flight; that tail
  // is discarded: it was never delivered, so it was never confirmed.
  for (;;) {
    char* buffer = nullptr;
    int n = PQgetCopyData(conn_, &buffer, 1);
    if (buffer) PQfreemem(buffer);
    if (n > 0) continue;
    if (n < 0) break;
    if (wait_for_socket(socket(), POLLIN, nullptr, deadline) != WaitResult::Ready ||
        PQconsumeInput(conn_) == 0) {
      return;
    }
  }
  // Not interruptible: this runs after the stop, and is bounded anyway.
  while (await_result(deadline, Interrupt{})) {
    PGresult* result = PQgetResult(conn_);
    if (result == nullptr) return;
    PQclear(result);
  }
}

ServerError ReplicationConnection::stream_error() {
  ServerError e;
  PGresult* result = nullptr;
  while ((result = PQgetResult(conn_)) != nullptr) {
    if (PQresultStatus(result) == PGRES_FATAL_ERROR && e.message.empty()) {
      e = error_from_result(result, conn_);
    }
    PQclear(result);
    if (PQstatus(conn_) == CONNECTION_BAD) break;
  }
  if (e.message.empty()) e.message = trim_message(PQerrorMessage(conn_));
  return e;
}

}  // namespace vil::replication
