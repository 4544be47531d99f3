#include "standby_hosts.hpp"

#include <libpq-fe.h>

#include <algorithm>

namespace vil::cdc {

namespace {

// libpq's list syntax: comma-separated, empty items allowed ("a,,b").
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  if (text.empty()) return items;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    items.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

// One value of a list for the i-th host: a single value serves them all.
std::string item_for(const std::vector<std::string>& items, size_t i) {
  if (items.size() == 1) return items[0];
  return i < items.size() ? items[i] : std::string();
}

}  // namespace

std::vector<NamedHost> named_hosts(std::string_view conn_string) {
  PQconninfoOption* parsed = PQconninfoParse(std::string(conn_string).c_str(), nullptr);
  if (parsed == nullptr) return {};
  std::vector<std::pair<std::string, std::string>> common;
  std::vector<std::string> hosts;
  std::vector<std::string> hostaddrs;
  std::vector<std::string> ports;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || o->val[0] == '\0') continue;
    const std::string_view key = o->keyword;
    if (key == "host") {
      hosts = split_list(o->val);
    } else if (key == "hostaddr") {
      hostaddrs = split_list(o->val);
    } else if (key == "port") {
      ports = split_list(o->val);
    } else if (key != "target_session_attrs" && key != "load_balance_hosts") {
      common.emplace_back(key, o->val);
    }
  }
  PQconninfoFree(parsed);

  const size_t count = std::max<size_t>({hosts.size(), hostaddrs.size(), 1});
  std::vector<NamedHost> named;
  for (size_t i = 0; i < count; ++i) {
    NamedHost host;
    host.options = common;
    const std::string name = i < hosts.size() ? hosts[i] : std::string();
    const std::string addr = i < hostaddrs.size() ? hostaddrs[i] : std::string();
    const std::string port = item_for(ports, i);
    if (!name.empty()) host.options.emplace_back("host", name);
    if (!addr.empty()) host.options.emplace_back("hostaddr", addr);
    if (!port.empty()) host.options.emplace_back("port", port);
    host.address = (name.empty() ? addr : name) + ":" + (port.empty() ? "5432" : port);
    named.push_back(std::move(host));
  }
  return named;
}

}  // namespace vil::cdc
