#pragma once
// The ordinary connections the snapshots use (the initial snapshot's workers,
// the incremental snapshot's chunk reader, a snapshot request): opened in the
// stream's session settings (docs/DESIGN.md §4.3), so that every value is
// written as the stream writes it, and errors that read as sentences.

#include <libpq-fe.h>

#include <expected>
#include <string>
#include <string_view>

#include "libpq_text.hpp"

namespace vil::cdc {

// Connects with `conn_string` in the stream's session settings, as
// `application_name` unless the connection string names one. The error says
// what the connection was for (`purpose`, "to read the snapshot").
std::expected<PqConnection, std::string> connect_for_snapshot(const std::string& conn_string,
                                                              const char* application_name,
                                                              std::string_view purpose);

// An owned PGresult.
class PqResult {
 public:
  explicit PqResult(PGresult* result) : result_(result) {}
  ~PqResult() { PQclear(result_); }
  PqResult(const PqResult&) = delete;
  PqResult& operator=(const PqResult&) = delete;
  [[nodiscard]] PGresult* get() const { return result_; }
  [[nodiscard]] ExecStatusType status() const { return PQresultStatus(result_); }

 private:
  PGresult* result_;
};

// Runs a command that returns nothing or rows; the error names `doing`.
std::expected<void, std::string> run_command(PGconn* conn, const std::string& sql,
                                             std::string_view doing);

// `name` quoted as an SQL identifier.
std::string quote_identifier(PGconn* conn, std::string_view name);

}  // namespace vil::cdc
