#include "support/held_session.hpp"

#include <libpq-fe.h>

namespace vil::testing {

HeldSession::HeldSession(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {}

HeldSession::~HeldSession() {
  PQfinish(conn_);
}

bool HeldSession::connected() const {
  return PQstatus(conn_) == CONNECTION_OK;
}

std::string HeldSession::run(const std::string& sql) {
  PGresult* res = PQexec(conn_, sql.c_str());
  const ExecStatusType status = PQresultStatus(res);
  PQclear(res);
  const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  return ok ? std::string() : PQerrorMessage(conn_);
}

}  // namespace vil::testing
