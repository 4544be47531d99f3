#include "vil/replication/stream_error.hpp"

#include <fmt/format.h>

#include "session_setup.hpp"

namespace vil::replication {

bool is_retryable_sqlstate(std::string_view sqlstate) {
  return sqlstate.empty() || sqlstate.starts_with("08") || sqlstate == "57P01" ||
         sqlstate == "57P02" || sqlstate == "57P03" || sqlstate == "55006";
}

bool StreamError::is_retryable() const {
  switch (code) {
    case StreamErrc::ServerRefused:
      return is_retryable_sqlstate(sqlstate);
    case StreamErrc::ConnectFailed:
      return connect_failure == ConnectFailure::Unreachable ||
             connect_failure == ConnectFailure::ServerShutdown ||
             connect_failure == ConnectFailure::Other;
    case StreamErrc::ConnectionLost:
    case StreamErrc::StatusUpdateFailed:
      return true;
    default:
      return false;
  }
}

StreamError connect_error(const StreamSettings& settings, const ConnectError& e) {
  return StreamError(StreamErrc::ConnectFailed,
                     fmt::format("could not connect to PostgreSQL ({}): {}",
                                 redact_conn_string(settings.conn_string), e.message))
      .with_connect_failure(e.reason);
}

StreamError invalidated_slot_error(const StreamSettings& settings, std::string_view why) {
  return StreamError(
      StreamErrc::SlotNotFound,
      fmt::format("replication slot \"{}\" can no longer be used: {}; the changes since its "
                  "position are lost, so drop it (vil-cdc drop-slot) and create a new slot "
                  "with a snapshot (--create-slot --snapshot initial)",
                  settings.slot_name, why));
}

StreamError start_error(const StreamSettings& settings, const ServerError& e) {
  // pgoutput reports a missing publication when it starts decoding.
  if (e.message.find("publication") != std::string::npos &&
      e.message.find("does not exist") != std::string::npos) {
    return StreamError(StreamErrc::PublicationNotFound,
                       fmt::format("publication \"{}\": {}", settings.publication, e.text()));
  }
  // The server invalidated the slot (it fell more than max_slot_wal_keep_size
  // behind, or on 16+ a standby's catalog conflict; 17+ also idle time): the
  // WAL it needed is gone, and no retry brings it back. PostgreSQL 14 and 15
  // say "cannot read from logical replication slot", 16+ "can no longer get
  // changes from replication slot"; both explain it as "invalidated".
  if (e.sqlstate == "55000" && e.text().find("invalidated") != std::string::npos) {
    return invalidated_slot_error(settings, e.text());
  }
  if (e.sqlstate == "42704" && e.message.find("slot") != std::string::npos) {
    return StreamError(StreamErrc::SlotNotFound,
                       fmt::format("replication slot \"{}\": {}", settings.slot_name, e.text()));
  }
  if (e.sqlstate.empty()) {
    return StreamError(
        StreamErrc::ConnectionLost,
        fmt::format("the connection for slot \"{}\" was lost: {}", settings.slot_name, e.text()));
  }
  return StreamError(StreamErrc::ServerRefused, fmt::format("replication on slot \"{}\" failed: {}",
                                                            settings.slot_name, e.text()))
      .with_sqlstate(e.sqlstate);
}

StreamError stream_end_error(const StreamSettings& settings, const SessionInfo& info,
                             const ServerError& e) {
  // 22021 character_not_in_repertoire, 22P05 untranslatable_character: the
  // server cannot turn the database's text into the UTF-8 the session asks
  // for. The same WAL would fail the same way after a reconnect.
  if (e.sqlstate == "22021" || e.sqlstate == "22P05") {
    std::string remedy =
        info.server_encoding == "SQL_ASCII"
            ? "SQL_ASCII declares no encoding, so PostgreSQL passes its bytes on unconverted and "
              "rejects those above 127 as UTF-8; re-create the database with ENCODING 'UTF8' "
              "and its text converted from the encoding it is really in, or correct the rows "
              "that hold such bytes"
            : "the database holds text that has no UTF-8 form; correct those rows";
    return StreamError(
               StreamErrc::ServerFailed,
               fmt::format("slot \"{}\": database \"{}\" has encoding {} and the server could "
                           "not send its text as UTF-8, which vil-cdc reads: {}. {}",
                           settings.slot_name, info.database,
                           info.server_encoding.empty() ? "unknown" : info.server_encoding,
                           e.text(), remedy))
        .with_sqlstate(e.sqlstate);
  }
  StreamError error = start_error(settings, e);
  if (is_retryable_sqlstate(e.sqlstate)) {
    error.code = StreamErrc::ConnectionLost;
    error.sqlstate.clear();
  }
  return error;
}

}  // namespace vil::replication
