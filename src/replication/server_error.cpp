#include "server_error.hpp"

#include <fmt/format.h>

namespace vil::replication {

std::string ServerError::text() const {
  std::string out = message.empty() ? std::string("the server closed the connection") : message;
  if (!sqlstate.empty()) out += fmt::format(" (SQLSTATE {})", sqlstate);
  if (!detail.empty()) out += fmt::format(": {}", detail);
  if (!hint.empty()) out += fmt::format(". Hint: {}", hint);
  return out;
}

}  // namespace vil::replication
