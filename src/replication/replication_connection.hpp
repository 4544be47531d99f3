#pragma once
// The replication transport: a libpq connection in replication=database mode.
// It runs set-up commands, enters CopyBoth with START_REPLICATION, hands out
// CopyData frames without blocking and sends the standby's frames back. It
// knows nothing of pgoutput: the decoder and the trigger sit above it.

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "poll_wait.hpp"
#include "server_error.hpp"
#include "vil/replication/stream_error.hpp"

typedef struct pg_conn PGconn;

namespace vil::replication {

struct ConnectOptions {
  std::string conn_string;  // the user's, as given
  std::string application_name = "vil-cdc";
  std::chrono::milliseconds timeout{30'000};
};

struct ConnectError {
  ConnectFailure reason;
  std::string message;       // libpq's words, with no password in them
  bool interrupted = false;  // stop came before the connection was up
};

// One CopyData frame, owned: libpq allocates it and the destructor frees it.
// The I/O thread copies the payload into the frame arena and lets the frame
// go at once, so libpq's buffer is freed on the thread that allocated it;
// delivered changes view into the arena, never into a CopyFrame.
class CopyFrame {
 public:
  CopyFrame() = default;
  CopyFrame(char* data, int size) : data_(data), size_(size) {}
  CopyFrame(CopyFrame&& other) noexcept;
  CopyFrame& operator=(CopyFrame&& other) noexcept;
  ~CopyFrame();

  std::span<const uint8_t> bytes() const {
    return {reinterpret_cast<const uint8_t*>(data_), static_cast<size_t>(size_)};
  }
  size_t size() const { return static_cast<size_t>(size_); }

 private:
  char* data_ = nullptr;
  int size_ = 0;
};

using Rows = std::vector<std::vector<std::optional<std::string>>>;

class ReplicationConnection {
 public:
  // Connects without blocking the caller past a stop: `interrupt` ends the
  // attempt with interrupted = true, and later cuts short execute() and
  // start_copy_both() (a CREATE_REPLICATION_SLOT waits for every running
  // transaction, which can take as long as the oldest one).
  static std::expected<std::unique_ptr<ReplicationConnection>, ConnectError> connect(
      const ConnectOptions& options, const Interrupt& interrupt);

  ~ReplicationConnection();
  ReplicationConnection(const ReplicationConnection&) = delete;
  ReplicationConnection& operator=(const ReplicationConnection&) = delete;

  int server_version() const;  // e.g. 150018
  // "host:port" of the server this connection reached (of a multi-host
  // string, the one libpq settled on).
  std::string address() const;
  // A setting the server reported when the connection started
  // ("server_encoding"); empty when it did not.
  std::string parameter(const char* name) const;
  int socket() const;

  // A simple-protocol command (replication connections take no other): SQL
  // or a replication command. Rows come back as text. An interrupt fails it
  // (interrupted() then says so).
  std::expected<Rows, ServerError> execute(const std::string& command);
  bool interrupted() const { return interrupt_.requested(); }
  // As execute(), but nothing interrupts it (it is still bounded): for a
  // command that must complete once begun, such as keeping a slot whose
  // snapshot was delivered.
  std::expected<Rows, ServerError> execute_uninterrupted(const std::string& command);

  // SQL quoting (libpq's); replication commands have their own grammar, see
  // replication_command.hpp.
  std::string quote_identifier(std::string_view name) const;
  std::string quote_literal(std::string_view text) const;

  // Sends START_REPLICATION (or any command that answers CopyBoth).
  std::expected<void, ServerError> start_copy_both(const std::string& command);

  enum class ReadStatus { Frame, WouldBlock, Ended, Failed };
  // Takes the next whole frame already read from the socket, if any.
  ReadStatus read_frame(CopyFrame& frame);
  // Reads what the socket has into libpq's buffer (after poll said so).
  bool consume_input();
  // Queues a frame for the server and flushes what the socket takes now.
  bool send_copy_data(std::span<const uint8_t> bytes);
  // True while output is waiting for the socket to take it (poll for POLLOUT).
  bool has_pending_output() const;
  // SO_RCVLOWAT: poll() reports the socket readable once this many bytes wait.
  void set_receive_low_water(int bytes);
  // True for TCP to an address of this host (127.0.0.1, ::1, or the host's
  // own address): the kernel delivers each of the server's sends in the
  // walsender's own context, so how we read sets what the server pays.
  [[nodiscard]] bool peer_on_same_host() const;
  // Connected through the server's Unix-domain socket.
  [[nodiscard]] bool unix_socket() const;
  // SO_RCVBUF: the receive window stays at most about this size.
  void set_receive_buffer(int bytes);
  // Ends our side of CopyBoth and reads what the server still says, with a
  // bounded wait; errors here are not interesting any more.
  void finish_copy(std::chrono::milliseconds timeout);
  // The server's final word after a CopyBoth ended or failed.
  ServerError stream_error();

  std::string error_message() const;

 private:
  ReplicationConnection(PGconn* conn, const Interrupt& interrupt)
      : conn_(conn), interrupt_(interrupt) {}
  // Sends a simple-protocol command and flushes it to the socket.
  std::expected<void, ServerError> send_command(const std::string& command);
  // Reads until a result is ready; false when the connection broke, the
  // deadline passed or a stop interrupted.
  bool await_result(std::chrono::steady_clock::time_point deadline, const Interrupt& interrupt);
  PGconn* conn_;
  Interrupt interrupt_;
};

}  // namespace vil::replication
