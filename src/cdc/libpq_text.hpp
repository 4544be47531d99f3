#pragma once
// What the cdc layer's own libpq connections (the catalog's, the snapshot's)
// share: libpq's words on one line, for messages, and an owned connection.

#include <libpq-fe.h>

#include <memory>
#include <string>

namespace vil::cdc {

// libpq's message without its trailing newline, newlines and tabs as spaces.
inline std::string one_line(const char* message) {
  std::string out(message != nullptr ? message : "");
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& c : out) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return out;
}

struct PqFinish {
  void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
using PqConnection = std::unique_ptr<PGconn, PqFinish>;

}  // namespace vil::cdc
