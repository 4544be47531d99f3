#pragma once
// CdcFault: why a CDC trigger could not go on (docs/DESIGN.md §2.3). Codes are stable
// and shared with the Rust crates; variants after 7 are this project's own,
// appended in order. Hashes are for machines; message() is for people.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace vil::cdc {

// Why a connection failed (ConnectionFailed::reason_code).
enum class ConnectionFailure : uint32_t {
  Unreachable = 1,     // no server at that address, refused, timed out
  AuthFailed = 2,      // wrong password, no pg_hba entry, unknown role, TLS identity not proven
  ServerShutdown = 3,  // the server closed or is shutting down
  BadConnString = 4,   // libpq could not parse the connection string
  NotReplication = 5,  // the role may not start replication
  WalLevel = 6,        // wal_level is not logical
  Other = 7,
};

struct ConnectionFailed {
  uint32_t conn_hash;    // register_str of the connection string without password
  uint32_t reason_code;  // a ConnectionFailure
};
struct ReplicationStartFailed {
  uint32_t slot_hash;
  uint32_t pg_error_code;  // SQLSTATE packed as PostgreSQL's MAKE_SQLSTATE does
};
struct UnknownMessage {
  uint8_t msg_type;
};
struct SlotNotFound {
  uint32_t slot_hash;
};
struct PublicationNotFound {
  uint32_t pub_hash;
};
struct StreamClosed {
  uint32_t slot_hash;
};
struct KeepaliveFailed {
  int32_t os_code;
};
// The server sent bytes that are not a valid pgoutput message.
struct MalformedMessage {
  uint8_t msg_type;
  uint32_t offset;
};
// A configuration field is missing or wrong.
struct ConfigInvalid {
  uint32_t field_hash;
};
// The owner's callback threw: the change was not delivered, nothing is confirmed.
struct DeliveryFailed {
  uint64_t sequence;
};
// The server ended a running stream with an error a reconnect would only meet
// again (it could not convert the database's text to UTF-8, say).
struct StreamFailed {
  uint32_t slot_hash;
  uint32_t pg_error_code;  // SQLSTATE packed as PostgreSQL's MAKE_SQLSTATE does
};

// A snapshot could not be read (docs/DESIGN.md §6.8): a table, a connection,
// the snapshot itself.
struct SnapshotFailed {
  uint32_t table_hash;  // register_str("schema.table"), or of the publication
};

class CdcFault {
 public:
  using Detail =
      std::variant<ConnectionFailed, ReplicationStartFailed, UnknownMessage, SlotNotFound,
                   PublicationNotFound, StreamClosed, KeepaliveFailed, MalformedMessage,
                   ConfigInvalid, DeliveryFailed, StreamFailed, SnapshotFailed>;

  CdcFault(Detail detail, std::string message) : detail_(detail), message_(std::move(message)) {}

  // The stable number of the variant (1..12).
  uint32_t code() const { return static_cast<uint32_t>(detail_.index()) + 1; }
  // The variant's name, e.g. "SlotNotFound".
  std::string_view kind() const;
  // "Kind(code=N)".
  std::string to_string() const;
  // True for faults that a reconnect can cure (a lost connection, a server
  // restart, a command the server refused with a retryable SQLSTATE, a slot
  // still held by the walsender of a lost connection); false for those no
  // retry can (bad password, no such slot). The trigger retries them only
  // after it has streamed: a first connection that fails is the owner's to fix.
  bool is_retryable() const;

  const Detail& detail() const { return detail_; }
  // What a person reads: which slot, which publication, what the server said.
  const std::string& message() const { return message_; }

  template <class T>
  const T* get() const {
    return std::get_if<T>(&detail_);
  }

 private:
  Detail detail_;
  std::string message_;
};

// Server errors after which a new session may well succeed: the connection
// broke (no SQLSTATE, class 08), the server is shutting down or restarting
// (57P01-57P03), or the slot is still in use (55006).
[[nodiscard]] bool is_retryable_sqlstate(std::string_view sqlstate);

// PostgreSQL's MAKE_SQLSTATE packing of a five-character SQLSTATE ("42704").
uint32_t pack_sqlstate(std::string_view sqlstate);
// The inverse, for messages.
std::string unpack_sqlstate(uint32_t code);

}  // namespace vil::cdc
