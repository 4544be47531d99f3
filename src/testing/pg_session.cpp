#include "pg_session.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

namespace vil::testing::detail {
namespace {

std::string trimmed(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string excerpt(std::string_view sql) {
  constexpr std::size_t kMax = 200;
  if (sql.size() <= kMax) return std::string(sql);
  return fmt::format("{}...", sql.substr(0, kMax));
}

}  // namespace

void PgSession::Finish::operator()(pg_conn* conn) const {
  PQfinish(conn);
}

PgSession::PgSession(const std::string& conninfo)
    : conninfo_(conninfo), conn_(PQconnectdb(conninfo.c_str())) {
  if (!conn_) throw ClusterError("libpq could not allocate a connection");
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    throw ClusterError(
        fmt::format("cannot connect ({}): {}", conninfo_, trimmed(PQerrorMessage(conn_.get()))));
  }
}

void PgSession::execute(std::string_view sql) {
  run(sql, true);
}
void PgSession::execute_secret(std::string_view sql) {
  run(sql, false);
}
std::vector<Row> PgSession::query(std::string_view sql) {
  return run(sql, true);
}

std::vector<Row> PgSession::run(std::string_view sql, bool quote_statement) {
  const std::string text(sql);
  std::unique_ptr<PGresult, void (*)(PGresult*)> result(PQexec(conn_.get(), text.c_str()), PQclear);
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
    const std::string message =
        trimmed(result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn_.get()));
    if (quote_statement) {
      throw ClusterError(fmt::format("{} (statement: {})", message, excerpt(sql)));
    }
    throw ClusterError(message);
  }
  std::vector<Row> rows;
  const int n_rows = PQntuples(result.get());
  const int n_cols = PQnfields(result.get());
  rows.reserve(static_cast<std::size_t>(n_rows));
  for (int r = 0; r < n_rows; ++r) {
    Row row;
    row.reserve(static_cast<std::size_t>(n_cols));
    for (int c = 0; c < n_cols; ++c) {
      if (PQgetisnull(result.get(), r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(result.get(), r, c),
                                     static_cast<std::size_t>(PQgetlength(result.get(), r, c))));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string PgSession::identifier(std::string_view name) {
  char* quoted = PQescapeIdentifier(conn_.get(), name.data(), name.size());
  if (!quoted) throw ClusterError(trimmed(PQerrorMessage(conn_.get())));
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

std::string PgSession::literal(std::string_view value) {
  char* quoted = PQescapeLiteral(conn_.get(), value.data(), value.size());
  if (!quoted) throw ClusterError(trimmed(PQerrorMessage(conn_.get())));
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

}  // namespace vil::testing::detail
