#pragma once
// The database a connection string connects to, as libpq decides it, for
// Debezium's source.db: the string's dbname; else, from a service file
// (the string's `service` or PGSERVICE) or PGDATABASE; else the user name,
// itself the string's user, a service file's, PGUSER, or the operating
// system's user. (What the server reports, IDENTIFY_SYSTEM's dbname, is not
// known before the first change is encoded; libpq's rule gives the same
// name without a connection.)

#include <string>

namespace vil::cli {

// Empty when libpq cannot parse the string (validate() reports that). A
// `service` in the string is looked up by setting PGSERVICE around
// PQconndefaults(): call this before starting threads that read the
// environment.
std::string database_name(const std::string& conn_string);

}  // namespace vil::cli
