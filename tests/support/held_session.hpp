// A libpq connection of a test's own, for a transaction held open while
// others commit (the cluster's helpers run each statement on their own).
#pragma once

#include <string>

struct pg_conn;

namespace vil::testing {

class HeldSession {
 public:
  explicit HeldSession(const std::string& conninfo);
  ~HeldSession();
  HeldSession(const HeldSession&) = delete;
  HeldSession& operator=(const HeldSession&) = delete;

  [[nodiscard]] bool connected() const;
  // Runs `sql`; the server's message when it fails, else empty.
  std::string run(const std::string& sql);

 private:
  pg_conn* conn_;
};

}  // namespace vil::testing
