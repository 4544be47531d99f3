// `vil-cdc stream` over TLS, against a throwaway cluster with ssl=on and
// certificates the test makes (test_certificates.hpp): verify-full with the
// right CA streams; a wrong CA, a wrong host name, or sslmode=require against
// a server without TLS exit 3 naming the cause; a client certificate (`cert`
// in pg_hba.conf) and SCRAM with channel binding log in. The connection
// string reaches libpq unchanged, for the replication connection and the
// side connections (catalog, slot check) alike.

#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"
#include "cli/test_certificates.hpp"

namespace vil::testing::cli {
namespace {

constexpr int kExitConnection = 3;
constexpr const char* kCertRole = "tls_cert_client";
constexpr const char* kScramRole = "tls_scram_user";
constexpr std::string_view kScramPassword = "Tls-Okapi-Scram-5521";

// "insert {"id":1,"v":"a"}" for each line: what a change did, without the
// positions that differ from run to run.
std::vector<std::string> changes_of(const std::string& out) {
  std::vector<std::string> changes;
  for (const Json& line : parse_lines(out)) {
    const Json& row = line["op"] == "delete" ? line["before"] : line["after"];
    changes.push_back(fmt::format("{} {}", line["op"].get<std::string>(), row.dump()));
  }
  return changes;
}

class CliTls : public CliTest {
 public:
  static void SetUpTestSuite() {
    try {
      certificates_ = std::make_unique<TestCertificates>(kCertRole);
    } catch (const std::exception& e) {
      setup_error_ = e.what();
      return;
    }
    ClusterOptions opts;
    opts.tls = ServerTls{.cert_file = certificates_->server_cert(),
                         .key_file = certificates_->server_key(),
                         .ca_file = certificates_->ca_cert()};
    // The two roles come in over TLS only, one with its certificate, one
    // with SCRAM; the superuser (the tests' own connections) stays trusted.
    for (const char* database : {"all", "replication"}) {
      opts.hba_lines.push_back(fmt::format("hostssl {} {} 127.0.0.1/32 cert", database, kCertRole));
      opts.hba_lines.push_back(
          fmt::format("hostssl {} {} 127.0.0.1/32 scram-sha-256", database, kScramRole));
      opts.hba_lines.push_back(
          fmt::format("hostnossl {} {},{} 127.0.0.1/32 reject", database, kCertRole, kScramRole));
    }
    use_cluster(opts);
    try {
      // Roles are the cluster's: made once, also when tests are repeated.
      cluster().execute(
          fmt::format("DO $$ BEGIN CREATE ROLE {} LOGIN REPLICATION; "
                      "CREATE ROLE {} LOGIN REPLICATION PASSWORD '{}'; "
                      "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
                      kCertRole, kScramRole, kScramPassword));
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }

 protected:
  void SetUp() override {
    if (!setup_error_.empty()) GTEST_FAIL() << "no TLS cluster: " << setup_error_;
    CliTest::SetUp();
  }

  const TestCertificates& certificates() const { return *certificates_; }

  // This test's database as `user`, verifying the server's certificate
  // against `ca` and its name, then `more`.
  std::string verified_conn(const std::filesystem::path& ca, std::string_view user = {},
                            std::string_view more = {}) const {
    return fmt::format("{} sslmode=verify-full sslrootcert={} {}", conninfo(user), ca.string(),
                       more);
  }

  std::vector<std::string> stream_with(const std::string& conn,
                                       std::initializer_list<std::string> more) const {
    std::vector<std::string> args{"stream", "--conn",        conn,         "--slot",
                                  slot_,    "--publication", publication_, "--quiet"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

 private:
  static inline std::unique_ptr<TestCertificates> certificates_;
  static inline std::string setup_error_;
};

TEST_F(CliTls, VerifyFullWithTheRightCaStreams) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  make_stream();
  execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
  execute("UPDATE t SET v = 'B' WHERE id = 2");

  // The certificate names 127.0.0.1 (an IP address entry) ...
  ProcessResult r = run_vil_cdc(
      stream_with(verified_conn(certificates().ca_cert()), {"--end-lsn", current_wal_lsn()}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(changes_of(r.out),
            (std::vector<std::string>{R"(insert {"id":1,"v":"a"})", R"(insert {"id":2,"v":"b"})",
                                      R"(update {"id":2,"v":"B"})"}));

  // ... and localhost (a DNS name entry).
  execute("DELETE FROM t WHERE id = 1");
  const std::string by_name = fmt::format(
      "host=localhost hostaddr=127.0.0.1 port={} user={} dbname={} sslmode=verify-full "
      "sslrootcert={}",
      cluster().port(), cluster().superuser(), dbname(), certificates().ca_cert().string());
  r = run_vil_cdc(stream_with(by_name, {"--end-lsn", current_wal_lsn()}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(changes_of(r.out), std::vector<std::string>{R"(delete {"id":1})"});
}

TEST_F(CliTls, AWrongCaExitsThreeNamingCertificateVerification) {
  make_stream();
  for (const char* mode : {"verify-full", "verify-ca"}) {
    SCOPED_TRACE(mode);
    const std::string conn = fmt::format("{} sslmode={} sslrootcert={}", conninfo(), mode,
                                         certificates().other_ca_cert().string());
    expect_one_line_error(run_vil_cdc(stream_with(conn, {})), kExitConnection,
                          {"could not connect to PostgreSQL", "certificate verify failed"});
  }
}

TEST_F(CliTls, AWrongHostNameExitsThreeNamingIt) {
  make_stream();
  // The right server and CA, reached by a name its certificate does not have.
  const std::string conn = fmt::format(
      "host=wrong.example hostaddr=127.0.0.1 port={} user={} dbname={} sslmode=verify-full "
      "sslrootcert={}",
      cluster().port(), cluster().superuser(), dbname(), certificates().ca_cert().string());
  expect_one_line_error(
      run_vil_cdc(stream_with(conn, {})), kExitConnection,
      {"server certificate for \"localhost\"", "does not match host name \"wrong.example\""});
}

// The role may only come in with a certificate over TLS, so every
// connection vil-cdc opens shows whether the string's sslcert and sslkey
// reached it: the replication connection, the catalog connection (a column
// of an enum type), the slot check's (which the progress line and the
// metrics read), the snapshot's and vil-cdc status's.
TEST_F(CliTls, AClientCertificateLogsInOnEveryConnection) {
  execute("CREATE TYPE mood AS ENUM ('calm', 'cross')");
  execute("CREATE TABLE t (id int PRIMARY KEY, m mood)");
  make_stream();
  const std::string conn =
      verified_conn(certificates().ca_cert(), kCertRole,
                    fmt::format("sslcert={} sslkey={}", certificates().client_cert().string(),
                                certificates().client_key().string()));
  ChildProcess child(vil_cdc_path(), stream_with(conn, {}));
  execute("INSERT INTO t VALUES (1, 'calm'), (2, 'cross')");

  const std::string connections = fmt::format(
      "SELECT string_agg(a.application_name, ',' ORDER BY a.application_name)"
      " FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)"
      " WHERE a.usename = '{}' AND s.ssl AND s.client_dn = '/CN={}'",
      kCertRole, kCertRole);
  const std::string expected = "vil-cdc,vil-cdc catalog,vil-cdc slot check";
  std::string seen;
  EXPECT_TRUE(wait_until(
      [&] {
        seen = query_value("SELECT coalesce((" + connections + "), '')");
        return seen == expected;
      },
      &child))
      << "connections of " << kCertRole << " with its certificate: " << seen;
  ASSERT_TRUE(wait_until([&] { return lines_of(child.out_so_far()).size() == 2; }, &child))
      << child.wait(1ms).describe();
  child.send_signal(SIGTERM);
  const ProcessResult r = child.wait(kRunDeadline);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(changes_of(r.out), (std::vector<std::string>{R"(insert {"id":1,"m":"calm"})",
                                                         R"(insert {"id":2,"m":"cross"})"}));

  // The snapshot's connections and vil-cdc status take the same string.
  execute(fmt::format("GRANT SELECT ON t TO {}", kCertRole));
  const ProcessResult rows = run_vil_cdc(stream_with(conn, {"--snapshot", "only"}));
  ASSERT_TRUE(rows.exited(0)) << rows.describe();
  EXPECT_EQ(changes_of(rows.out), (std::vector<std::string>{R"(read {"id":1,"m":"calm"})",
                                                            R"(read {"id":2,"m":"cross"})"}));
  const ProcessResult status = run_vil_cdc({"status", "--conn", conn, "--slot", slot_, "--json"});
  ASSERT_TRUE(status.exited(0)) << status.describe();
  EXPECT_EQ(Json::parse(status.out)["slots"][0]["slot"], slot_) << status.out;

  // Without the certificate the server says what it wanted.
  expect_one_line_error(run_vil_cdc(stream_with(verified_conn(certificates().ca_cert(), kCertRole),
                                                {"--end-lsn", current_wal_lsn()})),
                        kExitConnection, {"requires a valid client certificate"});
}

TEST_F(CliTls, ScramWithChannelBindingStreams) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream();
  execute("INSERT INTO t VALUES (7)");
  const std::string conn =
      verified_conn(certificates().ca_cert(), kScramRole,
                    fmt::format("password={} channel_binding=require", kScramPassword));
  ProcessResult r = run_vil_cdc(stream_with(conn, {"--end-lsn", current_wal_lsn()}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(changes_of(r.out), std::vector<std::string>{R"(insert {"id":7})"});
  EXPECT_EQ(r.out.find(kScramPassword), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find(kScramPassword), std::string::npos) << r.err;

  // A wrong password over the same channel: refused, and not shown either.
  const std::string wrong = verified_conn(certificates().ca_cert(), kScramRole,
                                          "password=Wrong-Okapi-0000 channel_binding=require");
  r = run_vil_cdc(stream_with(wrong, {}));
  expect_one_line_error(r, kExitConnection, {"password authentication failed", kScramRole});
  EXPECT_EQ(r.err.find("Wrong-Okapi-0000"), std::string::npos) << r.err;
}

// The default cluster has no TLS at all.
class CliWithoutTls : public CliTest {};

TEST_F(CliWithoutTls, SslmodeRequireExitsThreeNamingIt) {
  make_stream();
  expect_one_line_error(run_vil_cdc({"stream", "--conn", conninfo() + " sslmode=require", "--slot",
                                     slot_, "--publication", publication_, "--quiet"}),
                        kExitConnection,
                        {"could not connect to PostgreSQL", "server does not support SSL"});
}

}  // namespace
}  // namespace vil::testing::cli
