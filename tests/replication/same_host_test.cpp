// ReplicationConnection::peer_on_same_host() and unix_socket(): where the
// server is, which decides how a long bulk mode reads (SessionProtocol's
// Peer, docs/DESIGN.md §6.2). Asked of a real server, reached over 127.0.0.1
// and over its Unix-domain socket.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <string>

#include "replication/poll_wait.hpp"
#include "replication/replication_connection.hpp"
#include "support/pg_fixture.hpp"

namespace vil::replication {
namespace {

class SameHost : public testing::PgTest {
 protected:
  static void SetUpTestSuite() { use_cluster({}); }

  static bool on_same_host(const std::string& conninfo) {
    std::atomic<bool> stop{false};
    const Interrupt interrupt{nullptr, &stop};
    auto conn = ReplicationConnection::connect({.conn_string = conninfo}, interrupt);
    EXPECT_TRUE(conn) << (conn ? "" : conn.error().message);
    return conn && (*conn)->peer_on_same_host();
  }
};

TEST_F(SameHost, TcpToALoopbackAddressIsTheSameHost) {
  EXPECT_TRUE(on_same_host(conninfo()));
}

TEST_F(SameHost, TheUnixDomainSocketHasNoTcpWindowAndIsNot) {
  const std::string conninfo =
      fmt::format("host={} port={} user={} dbname={}", cluster().socket_dir().string(),
                  cluster().port(), query_value("SELECT current_user"), dbname());
  EXPECT_FALSE(on_same_host(conninfo));
}

}  // namespace
}  // namespace vil::replication
