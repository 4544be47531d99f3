// The text of the cluster's configuration files and connection strings.
#include "testing/cluster_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/cleanup_registry.hpp"

#include <filesystem>
#include <fstream>

namespace vil::testing::detail {
namespace {

using ::testing::HasSubstr;

TEST(ClusterConfig, ConninfoValuesAreQuotedWhenNeeded) {
  EXPECT_EQ(conninfo_value("postgres"), "postgres");
  EXPECT_EQ(conninfo_value("my db"), "'my db'");
  EXPECT_EQ(conninfo_value("it's"), "'it\\'s'");
  EXPECT_EQ(conninfo_value("a\\b"), "'a\\\\b'");
  EXPECT_EQ(conninfo_value(""), "''");
}

TEST(ClusterConfig, SettingsFollowTheDefaultsQuoted) {
  ClusterOptions opts;
  opts.settings = {{"wal_sender_timeout", "5s"}, {"cluster_name", "it's a \\ test"}};
  const std::string conf = postgresql_conf(opts, "/tmp/x/socket");
  EXPECT_THAT(conf, HasSubstr("wal_level = 'logical'\n"));
  EXPECT_THAT(conf, HasSubstr("unix_socket_directories = '/tmp/x/socket'\n"));
  EXPECT_THAT(conf, HasSubstr("fsync = 'off'\n"));
  EXPECT_THAT(conf, HasSubstr("cluster_name = 'it''s a \\\\ test'\n"));
  EXPECT_LT(conf.find("max_wal_senders = '20'"), conf.find("wal_sender_timeout = '5s'"));
  opts.durable = true;
  EXPECT_THAT(postgresql_conf(opts, "/s"), ::testing::Not(HasSubstr("fsync")));
}

TEST(ClusterConfig, MalformedSettingsAreRejected) {
  ClusterOptions opts;
  opts.settings = {{"", "x"}};
  EXPECT_THROW(postgresql_conf(opts, "/s"), ClusterError);
  opts.settings = {{"a=b", "x"}};
  EXPECT_THROW(postgresql_conf(opts, "/s"), ClusterError);
  opts.settings = {{"work_mem", "1MB\nfsync = on"}};
  EXPECT_THROW(postgresql_conf(opts, "/s"), ClusterError);
}

TEST(ClusterConfig, PasswordRolesComeBeforeTrust) {
  const std::string hba = pg_hba_conf({}, {"alice"});
  const auto scram = hba.find("host all \"alice\" 127.0.0.1/32 scram-sha-256\n");
  const auto scram_repl = hba.find("host replication \"alice\" 127.0.0.1/32 scram-sha-256\n");
  const auto trust = hba.find("host all all 127.0.0.1/32 trust\n");
  ASSERT_NE(scram, std::string::npos);
  ASSERT_NE(scram_repl, std::string::npos);
  ASSERT_NE(trust, std::string::npos);
  EXPECT_LT(scram, trust);
  EXPECT_LT(scram_repl, trust);
}

TEST(ClusterConfig, TheOptionsHbaLinesComeFirst) {
  const std::string hba = pg_hba_conf({"hostssl all bob 127.0.0.1/32 cert"}, {"alice"});
  const auto cert = hba.find("\nhostssl all bob 127.0.0.1/32 cert\n");
  ASSERT_NE(cert, std::string::npos) << hba;
  EXPECT_LT(cert, hba.find("host all \"alice\""));
  EXPECT_LT(cert, hba.find("host all all 127.0.0.1/32 trust\n"));
  EXPECT_THROW(pg_hba_conf({"host all all 0.0.0.0/0 trust\nlocal all all trust"}, {}),
               ClusterError);
}

TEST(ClusterConfig, TlsTurnsSslOnWithTheFilesInTheDataFolder) {
  ClusterOptions opts;
  EXPECT_THAT(postgresql_conf(opts, "/s"), ::testing::Not(HasSubstr("ssl")));
  opts.tls = ServerTls{.cert_file = "/x/a.pem", .key_file = "/x/b.pem"};
  opts.settings = {{"ssl_min_protocol_version", "TLSv1.3"}};
  std::string conf = postgresql_conf(opts, "/s");
  EXPECT_THAT(conf, HasSubstr("ssl = 'on'\n"));
  EXPECT_THAT(conf, HasSubstr("ssl_cert_file = 'server.crt'\n"));
  EXPECT_THAT(conf, HasSubstr("ssl_key_file = 'server.key'\n"));
  EXPECT_THAT(conf, ::testing::Not(HasSubstr("ssl_ca_file")));
  EXPECT_LT(conf.find("ssl = 'on'"), conf.find("ssl_min_protocol_version"));
  opts.tls->ca_file = "/x/c.pem";
  EXPECT_THAT(postgresql_conf(opts, "/s"), HasSubstr("ssl_ca_file = 'root.crt'\n"));
}

TEST(ClusterConfig, ObjectNames) {
  EXPECT_NO_THROW(check_object_name("role", "reader_1"));
  EXPECT_THROW(check_object_name("role", ""), ClusterError);
  EXPECT_THROW(check_object_name("role", std::string(64, 'a')), ClusterError);
  EXPECT_THROW(check_object_name("role", "a\"b"), ClusterError);
  EXPECT_THROW(check_object_name("role", "a\nb"), ClusterError);
}

TEST(RemoveTree, RemovesNestedFoldersAndManyFiles) {
  namespace fs = std::filesystem;
  std::string pattern = (fs::temp_directory_path() / "vil-remove-tree-XXXXXX").string();
  const fs::path root = mkdtemp(pattern.data());
  for (int d = 0; d < 3; ++d) {
    const fs::path dir = root / ("d" + std::to_string(d)) / "inner" / "deeper";
    fs::create_directories(dir);
    // Enough entries that reading the folder takes several getdents calls.
    for (int f = 0; f < 400; ++f)
      std::ofstream(dir / ("file-with-a-longish-name-" + std::to_string(f)));
  }
  fs::create_symlink("/etc", root / "link-to-etc");
  EXPECT_TRUE(remove_tree(root.c_str()));
  EXPECT_FALSE(fs::exists(root));
  EXPECT_TRUE(fs::exists("/etc/passwd"));  // a symlink is removed, not followed
  EXPECT_TRUE(remove_tree(root.c_str()));  // already gone is fine
}

}  // namespace
}  // namespace vil::testing::detail
