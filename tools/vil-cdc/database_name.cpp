#include "database_name.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>

#include <libpq-fe.h>

namespace vil::cli {

namespace {

// keyword -> value of a libpq option array; nullopt when not set at all
// (an empty value is set, and libpq treats it as set).
std::optional<std::string> option(const PQconninfoOption* options, const char* keyword) {
  for (const PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, keyword) == 0 && o->val != nullptr) return std::string(o->val);
  }
  return std::nullopt;
}

std::string os_user() {
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    return pw->pw_name;
  }
  return {};
}

// libpq's defaults for what the string leaves unset: the service file, the
// environment, then the OS user for `user`. PQconndefaults() reads the
// service PGSERVICE names; a `service` in the string is made PGSERVICE for
// the call, which is what libpq does with it (the string's wins over the
// environment's).
struct Defaults {
  std::optional<std::string> dbname;
  std::optional<std::string> user;
};

Defaults defaults_for(const std::optional<std::string>& service) {
  std::optional<std::string> saved;
  if (service) {
    if (const char* old = std::getenv("PGSERVICE")) saved = old;
    setenv("PGSERVICE", service->c_str(), 1);
  }
  Defaults d;
  if (PQconninfoOption* options = PQconndefaults()) {
    d.dbname = option(options, "dbname");
    d.user = option(options, "user");
    PQconninfoFree(options);
  }
  if (service) {
    if (saved) {
      setenv("PGSERVICE", saved->c_str(), 1);
    } else {
      unsetenv("PGSERVICE");
    }
  }
  return d;
}

}  // namespace

std::string database_name(const std::string& conn_string) {
  PQconninfoOption* options = PQconninfoParse(conn_string.c_str(), nullptr);
  if (options == nullptr) return {};
  std::optional<std::string> dbname = option(options, "dbname");
  std::optional<std::string> user = option(options, "user");
  const std::optional<std::string> service = option(options, "service");
  PQconninfoFree(options);
  if (dbname && !dbname->empty()) return *dbname;
  // Set but empty is not defaulted from the environment, only from the user.
  if (!dbname || !user) {
    const Defaults d = defaults_for(service);
    if (!dbname && d.dbname && !d.dbname->empty()) return *d.dbname;
    if (!user) user = d.user;
  }
  // libpq: no user name, or an empty one, is the operating system's.
  if (!user || user->empty()) return os_user();
  return *user;
}

}  // namespace vil::cli
