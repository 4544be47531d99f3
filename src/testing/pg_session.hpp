// A plain libpq connection for the cluster's own SQL helpers.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vil/testing/throwaway_cluster.hpp"

struct pg_conn;

namespace vil::testing::detail {

class PgSession {
 public:
  // Throws ClusterError with libpq's message.
  explicit PgSession(const std::string& conninfo);

  void execute(std::string_view sql);
  // Like execute, but a failure does not quote the statement (it holds a secret).
  void execute_secret(std::string_view sql);
  std::vector<Row> query(std::string_view sql);

  std::string identifier(std::string_view name);
  std::string literal(std::string_view value);

 private:
  struct Finish {
    void operator()(pg_conn* conn) const;
  };
  std::vector<Row> run(std::string_view sql, bool quote_statement);

  std::string conninfo_;
  std::unique_ptr<pg_conn, Finish> conn_;
};

}  // namespace vil::testing::detail
