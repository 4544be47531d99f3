#include "vil/cdc/catalog_connection.hpp"

#include <charconv>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "libpq_text.hpp"

namespace vil::cdc {
namespace {

// What a type is, for the values layer: a domain's base type, an array's
// element type (an array is what array_in reads: a varlena with an element
// type, subscripted as arrays are; int2vector and oidvector are built in),
// and the element's delimiter. typsubscript exists from PostgreSQL 14 on.
constexpr const char* kDescribeTypes =
    "SELECT t.oid, n.nspname, t.typname,"
    " CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE 0 END,"
    " CASE WHEN t.typtype <> 'd' AND t.typelem <> 0 AND t.typlen = -1"
    "  AND t.typsubscript = 'pg_catalog.array_subscript_handler'::pg_catalog.regproc"
    "  THEN t.typelem ELSE 0 END,"
    " coalesce(e.typdelim, ',')"
    " FROM pg_catalog.pg_type t"
    " JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
    " LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem"
    " WHERE t.oid = ANY ($1::pg_catalog.oid[])";

// Seconds a connection attempt or a catalog query may take: the thread that
// asks is the one that delivers changes.
constexpr const char* kConnectTimeout = "5";
constexpr const char* kStatementTimeout = "SET statement_timeout = 5000";

uint32_t to_oid(const char* text) {
  uint32_t value = 0;
  const std::string_view s(text);
  std::from_chars(s.data(), s.data() + s.size(), value);
  return value;
}

}  // namespace

struct CatalogConnection::Connection {
  PGconn* conn = nullptr;
  explicit Connection(PGconn* c) : conn(c) {}
  ~Connection() { PQfinish(conn); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
};

CatalogConnection::CatalogConnection(std::string conn_string,
                                     std::function<void(const std::string&)> on_error,
                                     std::chrono::milliseconds retry_after)
    : conn_string_(std::move(conn_string)),
      on_error_(std::move(on_error)),
      retry_after_(retry_after) {}

CatalogConnection::~CatalogConnection() = default;

void CatalogConnection::fail(const std::string& what) {
  connection_.reset();
  next_attempt_ = std::chrono::steady_clock::now() + retry_after_;
  if (on_error_) on_error_(what);
}

bool CatalogConnection::ensure_connected() {
  if (connection_ && PQstatus(connection_->conn) == CONNECTION_OK) return true;
  connection_.reset();
  if (std::chrono::steady_clock::now() < next_attempt_) return false;
  // The user's string (dbname expanded), never in replication mode, with a
  // time limit of ours unless the string sets its own, and UTF-8 names.
  const char* keywords[] = {"connect_timeout",           "dbname", "replication", "client_encoding",
                            "fallback_application_name", nullptr};
  const char* values[] = {kConnectTimeout, conn_string_.c_str(), "false",
                          "UTF8",          "vil-cdc catalog",    nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    fail("could not connect to ask the server's catalog: out of memory");
    return false;
  }
  connection_ = std::make_unique<Connection>(conn);
  if (PQstatus(conn) != CONNECTION_OK) {
    fail(fmt::format("could not connect to ask the server's catalog: {}",
                     one_line(PQerrorMessage(conn))));
    return false;
  }
  PGresult* set = PQexec(conn, kStatementTimeout);
  PQclear(set);
  return true;
}

std::optional<std::vector<values::TypeDescription>> CatalogConnection::describe_types(
    std::span<const uint32_t> oids) {
  if (oids.empty()) return std::vector<values::TypeDescription>{};
  if (!ensure_connected()) return std::nullopt;
  std::string list = "{";
  for (std::size_t i = 0; i < oids.size(); ++i) {
    if (i != 0) list.push_back(',');
    list += std::to_string(oids[i]);
  }
  list.push_back('}');
  const char* params[] = {list.c_str()};
  PGresult* result = PQexecParams(connection_->conn, kDescribeTypes, 1, nullptr, params, nullptr,
                                  nullptr, /*resultFormat=*/0);
  if (PQresultStatus(result) != PGRES_TUPLES_OK) {
    const std::string why = one_line(PQresultErrorMessage(result));
    PQclear(result);
    fail(fmt::format("could not look up column types in pg_type: {}", why));
    return std::nullopt;
  }
  std::vector<values::TypeDescription> out;
  const int rows = PQntuples(result);
  out.reserve(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    values::TypeDescription d;
    d.oid = to_oid(PQgetvalue(result, r, 0));
    d.schema = PQgetvalue(result, r, 1);
    d.name = PQgetvalue(result, r, 2);
    d.base_oid = to_oid(PQgetvalue(result, r, 3));
    d.element_oid = to_oid(PQgetvalue(result, r, 4));
    const char* delimiter = PQgetvalue(result, r, 5);
    d.delimiter = delimiter[0] != '\0' ? delimiter[0] : ',';
    out.push_back(std::move(d));
  }
  PQclear(result);
  return out;
}

std::optional<std::string> CatalogConnection::database_encoding() {
  if (!ensure_connected()) return std::nullopt;
  // Reported by the server when the connection starts.
  const char* encoding = PQparameterStatus(connection_->conn, "server_encoding");
  if (encoding == nullptr) return std::nullopt;
  return std::string(encoding);
}

}  // namespace vil::cdc
