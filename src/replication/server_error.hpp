#pragma once
// What the server said when a command failed, in its own words.

#include <string>

namespace vil::replication {

struct ServerError {
  std::string sqlstate;  // "42704"; empty when the connection itself broke
  std::string message;   // the primary message, e.g. replication slot "x" does not exist
  std::string detail;
  std::string hint;

  // "message (SQLSTATE 42704): detail. Hint: hint" for a person.
  std::string text() const;
};

}  // namespace vil::replication
