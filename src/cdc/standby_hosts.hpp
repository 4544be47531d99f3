#pragma once
// The servers a multi-host connection string names ("host=a,b port=1,2",
// or postgresql://a:1,b:2/db), one by one: libpq connects to the first that
// suits target_session_attrs, but the failover check must ask each of the
// others on a connection of its own.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vil::cdc {

struct NamedHost {
  // "host:port" as a connection to it reports them (PQhost, PQport): the
  // host, else the hostaddr; the port, else 5432. Never a secret.
  std::string address;
  // Every option of the string with this host's host, hostaddr and port
  // alone, and no target_session_attrs or load_balance_hosts (the one server
  // is wanted whatever it is): for PQconnectStartParams without expand_dbname.
  std::vector<std::pair<std::string, std::string>> options;
};

// In the string's order; empty when libpq cannot parse it.
std::vector<NamedHost> named_hosts(std::string_view conn_string);

}  // namespace vil::cdc
