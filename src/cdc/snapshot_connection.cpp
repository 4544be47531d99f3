#include "snapshot_connection.hpp"

#include <fmt/format.h>

#include "vil/replication/stream_settings.hpp"

namespace vil::cdc {

std::expected<PqConnection, std::string> connect_for_snapshot(const std::string& conn_string,
                                                              const char* application_name,
                                                              std::string_view purpose) {
  const std::string options = replication::session_options(conn_string);
  const char* keywords[] = {
      "dbname", "replication", "client_encoding", "options", "fallback_application_name", nullptr};
  const char* values[] = {conn_string.c_str(), "false",          "UTF8",
                          options.c_str(),     application_name, nullptr};
  PqConnection c(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (c == nullptr)
    return std::unexpected(fmt::format("could not connect {}: out of memory", purpose));
  if (PQstatus(c.get()) != CONNECTION_OK) {
    return std::unexpected(
        fmt::format("could not connect {}: {}", purpose, one_line(PQerrorMessage(c.get()))));
  }
  return c;
}

std::expected<void, std::string> run_command(PGconn* conn, const std::string& sql,
                                             std::string_view doing) {
  PqResult result(PQexec(conn, sql.c_str()));
  const ExecStatusType status = result.status();
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {};
  return std::unexpected(fmt::format("{}: {}", doing, one_line(PQerrorMessage(conn))));
}

std::string quote_identifier(PGconn* conn, std::string_view name) {
  char* quoted = PQescapeIdentifier(conn, name.data(), name.size());
  if (quoted == nullptr) return std::string(name);
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

}  // namespace vil::cdc
