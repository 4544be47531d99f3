#pragma once
// Why the transport could not go on, in its own terms. The trigger layer maps
// each code to one CdcFault variant (cdc/stream_mapping.cpp); the messages
// are already whole sentences for a person and carry no password.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace vil::replication {

// Why a connection attempt failed. The numbers are those of
// cdc::ConnectionFailure, which reports them to owners.
enum class ConnectFailure : uint32_t {
  Unreachable = 1,     // no server at that address, refused, timed out
  AuthFailed = 2,      // wrong password, no pg_hba entry, unknown role, TLS identity not proven
  ServerShutdown = 3,  // the server closed or is shutting down
  BadConnString = 4,   // libpq could not parse the connection string
  NotReplication = 5,  // the role may not start replication
  WalLevel = 6,        // wal_level is not logical
  Other = 7,
};

enum class StreamErrc {
  ConnectFailed,        // connect_failure says why
  ServerRefused,        // a set-up command or START_REPLICATION failed (sqlstate)
  SlotNotFound,         // missing, or gone after the stream used it
  PublicationNotFound,  // missing, or could not be created
  ConnectionLost,       // the connection broke or the server ended the stream
  StatusUpdateFailed,   // a standby status update could not be sent (os_error)
  MalformedFrame,       // a CopyData frame that is not XLogData or a keepalive
  SettingInvalid,       // a setting the server cannot honour (setting)
  NoticeFailed,         // the owner's notice callback threw
  ServerFailed,         // the server ended the stream with an error no retry cures (sqlstate)
};

struct StreamError {
  StreamError(StreamErrc error_code, std::string text)
      : code(error_code), message(std::move(text)) {}

  // The fields only some codes carry, set as the error is made.
  StreamError&& with_connect_failure(ConnectFailure why) && {
    connect_failure = why;
    return std::move(*this);
  }
  StreamError&& with_sqlstate(std::string state) && {
    sqlstate = std::move(state);
    return std::move(*this);
  }
  StreamError&& with_setting(std::string name) && {
    setting = std::move(name);
    return std::move(*this);
  }
  StreamError&& with_os_error(int error) && {
    os_error = error;
    return std::move(*this);
  }

  StreamErrc code;
  std::string message;
  ConnectFailure connect_failure = ConnectFailure::Other;  // ConnectFailed
  std::string sqlstate;                                    // ServerRefused, ServerFailed
  std::string setting;                                     // SettingInvalid: "protocol_version"
  int os_error = 0;                                        // StatusUpdateFailed
  uint8_t message_type = 0;                                // MalformedFrame
  uint32_t offset = 0;                                     // MalformedFrame

  // True when a new session may well succeed: a lost connection, a failed
  // status update, a server going down or starting up, a refusal with a
  // retryable SQLSTATE. False for what no retry cures (bad password, no
  // such slot). A first connection that fails is never retried whatever
  // this says: it is the owner's to fix.
  [[nodiscard]] bool is_retryable() const;
};

// How a failed connection attempt is classified from libpq's words
// (PQerrorMessage; `needs_password`: PQconnectionNeedsPassword): only some
// are worth a retry.
[[nodiscard]] ConnectFailure classify_connect_error(std::string_view message, bool needs_password);

// Server errors after which a new session may well succeed: the connection
// broke (no SQLSTATE, class 08), the server is shutting down or restarting
// (57P01-57P03), or the slot is still in use (55006). The one list.
[[nodiscard]] bool is_retryable_sqlstate(std::string_view sqlstate);

}  // namespace vil::replication
