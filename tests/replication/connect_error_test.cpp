// classify_connect_error(): what a failed connection attempt was, read from
// libpq's words. It decides whether a reconnect is tried (docs/DESIGN.md
// §6.6, CdcFault::is_retryable(): Unreachable, ServerShutdown and Other are
// retried, the rest end the run) and whether the owner hears AuthFailed.
//
// The texts are libpq's and the server's own (PostgreSQL 15 unless said
// otherwise), as ReplicationConnection::connect() passes them: joined into
// one line, each run of blanks one space.

#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <ostream>
#include <string>
#include <string_view>

#include "replication/replication_connection.hpp"

namespace vil::replication {
// A failure shows the reason's name, not its bytes (the numbers are the
// contract's, cdc_fault.hpp).
void PrintTo(ConnectFailure reason, std::ostream* os) {
  constexpr const char* kNames[] = {
      "?",        "Unreachable", "AuthFailed", "ServerShutdown", "BadConnString", "NotReplication",
      "WalLevel", "Other"};
  const auto n = static_cast<uint32_t>(reason);
  *os << (n < std::size(kNames) ? kNames[n] : "?") << " (" << n << ")";
}

namespace {

using ConnectionFailure = ConnectFailure;

ConnectionFailure classify(std::string_view message) {
  return classify_connect_error(message, /*needs_password=*/false);
}

TEST(ConnectError, AWrongPasswordIsAuthFailed) {
  EXPECT_EQ(classify(R"(connection to server at "127.0.0.1", port 5432 failed: FATAL: )"
                     R"(password authentication failed for user "alice")"),
            ConnectionFailure::AuthFailed);
}

TEST(ConnectError, NoPasswordGivenIsAuthFailed) {
  EXPECT_EQ(classify(R"(connection to server at "127.0.0.1", port 5432 failed: )"
                     R"(fe_sendauth: no password supplied)"),
            ConnectionFailure::AuthFailed);
  // libpq says the server asked for a password: whatever the words.
  EXPECT_EQ(classify_connect_error("connection to server failed", /*needs_password=*/true),
            ConnectionFailure::AuthFailed);
}

TEST(ConnectError, AnotherFailedAuthenticationMethodIsAuthFailed) {
  EXPECT_EQ(classify(R"(connection to server on socket "/tmp/.s.PGSQL.5432" failed: FATAL: )"
                     R"(Peer authentication failed for user "alice")"),
            ConnectionFailure::AuthFailed);
  EXPECT_EQ(classify(R"(connection to server at "127.0.0.1", port 5432 failed: FATAL: )"
                     R"(Ident authentication failed for user "alice")"),
            ConnectionFailure::AuthFailed);
}

TEST(ConnectError, NoPgHbaEntryIsAuthFailed) {
  // It names a database too, which must not read as "database missing".
  EXPECT_EQ(classify(R"(connection to server at "127.0.0.1", port 5432 failed: FATAL: )"
                     R"(no pg_hba.conf entry for host "127.0.0.1", user "alice", )"
                     R"(database "shop", no encryption)"),
            ConnectionFailure::AuthFailed);
  EXPECT_EQ(classify(R"(connection to server at "10.0.0.7", port 5432 failed: FATAL: )"
                     R"(no pg_hba.conf entry for replication connection from host )"
                     R"("10.0.0.9", user "alice", SSL encryption)"),
            ConnectionFailure::AuthFailed);
}

TEST(ConnectError, AnUnknownRoleIsAuthFailed) {
  EXPECT_EQ(classify(R"(connection to server at "127.0.0.1", port 5432 failed: FATAL: )"
                     R"(role "bob" does not exist)"),
            ConnectionFailure::AuthFailed);
}

// libpq's and the server's words when TLS proves no identity (seen in
// tests/cli/cli_tls_test.cpp).
TEST(ConnectError, ATlsIdentityNotProvenIsAuthFailed) {
  constexpr std::string_view kAt = R"(connection to server at "127.0.0.1", port 5432 failed: )";
  for (std::string_view why : {
           "SSL error: certificate verify failed",
           R"(server certificate for "localhost" (and 1 other name) does not match host name )"
           R"("db.example.com")",
           "FATAL: connection requires a valid client certificate",
           R"(FATAL: certificate authentication failed for user "alice")",
           "channel binding required, but server authenticated client without channel binding",
           "server does not support SSL, but SSL was required",
       }) {
    SCOPED_TRACE(why);
    EXPECT_EQ(classify(std::string(kAt) + std::string(why)), ConnectionFailure::AuthFailed);
  }
  // A connection that broke during the handshake is not one of them.
  EXPECT_EQ(classify(std::string(kAt) + "SSL SYSCALL error: EOF detected"),
            ConnectionFailure::Other);
}

TEST(ConnectError, ARoleWithoutReplicationIsNotReplication) {
  // PostgreSQL 10 to 15.
  EXPECT_EQ(classify(R"(connection to server at "127.0.0.1", port 5432 failed: FATAL: )"
                     R"(must be superuser or replication role to start walsender)"),
            ConnectionFailure::NotReplication);
  // PostgreSQL 16 and later.
  EXPECT_EQ(classify(R"(connection to server at "127.0.0.1", port 5432 failed: FATAL: )"
                     R"(permission denied to start WAL sender DETAIL: Only roles with the )"
                     R"(REPLICATION attribute may start a WAL sender process.)"),
            ConnectionFailure::NotReplication);
}

TEST(ConnectError, AMissingDatabaseIsBadConnString) {
  EXPECT_EQ(classify(R"(connection to server at "127.0.0.1", port 5432 failed: FATAL: )"
                     R"(database "shop" does not exist)"),
            ConnectionFailure::BadConnString);
}

TEST(ConnectError, AConnectionStringLibpqCannotParseIsBadConnString) {
  EXPECT_EQ(classify(R"(invalid connection option "hots")"), ConnectionFailure::BadConnString);
  EXPECT_EQ(classify(R"(missing "=" after "localhost" in connection info string)"),
            ConnectionFailure::BadConnString);
  EXPECT_EQ(classify("unterminated quoted string in connection info string"),
            ConnectionFailure::BadConnString);
  EXPECT_EQ(classify(R"(invalid URI query parameter: "sslmod")"), ConnectionFailure::BadConnString);
}

TEST(ConnectError, AHostNameThatDoesNotExistIsBadConnString) {
  EXPECT_EQ(classify(R"(could not translate host name "db.example.invalid" to address: )"
                     R"(Name or service not known)"),
            ConnectionFailure::BadConnString);
}

TEST(ConnectError, AServerShuttingDownOrStartingIsServerShutdown) {
  for (std::string_view fatal :
       {"the database system is shutting down", "the database system is starting up",
        "the database system is in recovery mode"}) {
    SCOPED_TRACE(fatal);
    std::string message(R"(connection to server at "127.0.0.1", port 5432 failed: FATAL: )");
    message += fatal;
    EXPECT_EQ(classify(message), ConnectionFailure::ServerShutdown);
  }
}

TEST(ConnectError, AConnectionTheServerClosedIsServerShutdown) {
  EXPECT_EQ(classify(R"(connection to server at "127.0.0.1", port 5432 failed: FATAL: )"
                     R"(terminating connection due to administrator command)"),
            ConnectionFailure::ServerShutdown);
  EXPECT_EQ(classify(R"(connection to server at "127.0.0.1", port 5432 failed: )"
                     R"(server closed the connection unexpectedly This probably means the )"
                     R"(server terminated abnormally before or while processing the request.)"),
            ConnectionFailure::ServerShutdown);
}

TEST(ConnectError, ARefusedConnectionIsUnreachable) {
  EXPECT_EQ(classify(R"(connection to server at "127.0.0.1", port 5499 failed: Connection )"
                     R"(refused Is the server running on that host and accepting TCP/IP )"
                     R"(connections?)"),
            ConnectionFailure::Unreachable);
  EXPECT_EQ(classify(R"(connection to server on socket "/tmp/.s.PGSQL.5432" failed: )"
                     R"(Connection refused Is the server running locally and accepting )"
                     R"(connections on that socket?)"),
            ConnectionFailure::Unreachable);
  // libpq 13 and older.
  EXPECT_EQ(classify(R"(could not connect to server: Connection refused Is the server running )"
                     R"(on host "localhost" (127.0.0.1) and accepting TCP/IP connections on )"
                     R"(port 5432?)"),
            ConnectionFailure::Unreachable);
}

TEST(ConnectError, ATimeoutIsUnreachable) {
  // ReplicationConnection::connect()'s own deadline, and libpq's
  // connect_timeout.
  EXPECT_EQ(classify("timeout expired after 30000 ms while connecting"),
            ConnectionFailure::Unreachable);
  EXPECT_EQ(classify(R"(connection to server at "10.0.0.7", port 5432 failed: timeout expired)"),
            ConnectionFailure::Unreachable);
  EXPECT_EQ(classify(R"(connection to server at "10.255.255.1", port 5432 failed: Connection )"
                     R"(timed out Is the server running on that host and accepting TCP/IP )"
                     R"(connections?)"),
            ConnectionFailure::Unreachable);
}

TEST(ConnectError, ANetworkWithNoRouteIsUnreachable) {
  EXPECT_EQ(classify(R"(connection to server at "10.0.0.7", port 5432 failed: No route to )"
                     R"(host Is the server running on that host and accepting TCP/IP )"
                     R"(connections?)"),
            ConnectionFailure::Unreachable);
  EXPECT_EQ(classify(R"(connection to server at "db.example.com" (52.8.172.168), port 6543 )"
                     R"(failed: Network is unreachable Is the server running on that host )"
                     R"(and accepting TCP/IP connections?)"),
            ConnectionFailure::Unreachable);
}

TEST(ConnectError, AnythingElseIsOther) {
  EXPECT_EQ(classify(R"(connection to server at "127.0.0.1", port 5432 failed: FATAL: )"
                     R"(sorry, too many clients already)"),
            ConnectionFailure::Other);
  EXPECT_EQ(classify("poll() failed while connecting"), ConnectionFailure::Other);
  EXPECT_EQ(classify("interrupted before the connection was up"), ConnectionFailure::Other);
  EXPECT_EQ(classify(""), ConnectionFailure::Other);
}

TEST(ConnectError, APermanentCauseOnOneHostWinsOverATransientOneOnAnother) {
  // libpq tries each host of a list and joins the errors: a wrong password
  // is not cured by trying again.
  EXPECT_EQ(classify(R"(connection to server at "10.0.0.7", port 5432 failed: Connection )"
                     R"(refused Is the server running on that host and accepting TCP/IP )"
                     R"(connections? connection to server at "10.0.0.8", port 5432 failed: )"
                     R"(FATAL: password authentication failed for user "alice")"),
            ConnectionFailure::AuthFailed);
}

// A name server that cannot answer for now (EAI_AGAIN) is retried: a run
// that has streamed must not end on a DNS hiccup during a reconnect
// (docs/DESIGN.md §3). A name that does not exist stays BadConnString.
TEST(ConnectError, ANameServerFailingForNowIsRetryable) {
  EXPECT_EQ(classify(R"(could not translate host name "db.example.com" to address: )"
                     R"(Temporary failure in name resolution)"),
            ConnectionFailure::Unreachable);
}

// PostgreSQL 14's libpq and later say a missing Unix socket as "No such file
// or directory": no server there, as for a refused connection.
TEST(ConnectError, AMissingUnixSocketIsUnreachable) {
  EXPECT_EQ(classify(R"(connection to server on socket "/tmp/.s.PGSQL.5432" failed: No such )"
                     R"(file or directory Is the server running locally and accepting )"
                     R"(connections on that socket?)"),
            ConnectionFailure::Unreachable);
}

// A standby that is starting and has not reached a consistent state
// (PostgreSQL 14 and later) is a server starting up.
TEST(ConnectError, AStandbyNotYetAcceptingConnectionsIsServerShutdown) {
  EXPECT_EQ(classify(R"(connection to server at "127.0.0.1", port 5432 failed: FATAL: the )"
                     R"(database system is not yet accepting connections DETAIL: Consistent )"
                     R"(recovery state has not been yet reached.)"),
            ConnectionFailure::ServerShutdown);
}

}  // namespace
}  // namespace vil::replication
