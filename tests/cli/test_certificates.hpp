// Certificates for the TLS tests, made by the openssl command line in a
// folder of their own: a CA, a server certificate it signs for `localhost`
// and 127.0.0.1, a client certificate it signs for a role, and a second CA
// that signed nothing the server shows. Keys are P-256 (quick to make) and
// unencrypted; everything is valid for two days.
#pragma once

#include <filesystem>
#include <string>

#include "cli/cli_test_support.hpp"

namespace vil::testing::cli {

class TestCertificates {
 public:
  // Throws std::runtime_error with openssl's words when a step fails.
  explicit TestCertificates(const std::string& client_role);

  const std::filesystem::path& ca_cert() const { return ca_cert_; }
  // A CA of the same name that signed none of these: verification fails.
  const std::filesystem::path& other_ca_cert() const { return other_ca_cert_; }
  const std::filesystem::path& server_cert() const { return server_cert_; }
  const std::filesystem::path& server_key() const { return server_key_; }
  // CN = the role, as `cert` authentication in pg_hba.conf wants it.
  const std::filesystem::path& client_cert() const { return client_cert_; }
  const std::filesystem::path& client_key() const { return client_key_; }

 private:
  void make_ca(const std::string& name);
  // A key and a certificate for `subject`, signed by the CA `ca`, with
  // `extensions` (an openssl extension section's lines).
  void make_signed(const std::string& name, const std::string& subject, const std::string& ca,
                   const std::string& extensions);
  std::filesystem::path file(const std::string& name) const { return dir_ / name; }

  TempDir dir_{"vil-tls-"};
  std::filesystem::path ca_cert_;
  std::filesystem::path other_ca_cert_;
  std::filesystem::path server_cert_;
  std::filesystem::path server_key_;
  std::filesystem::path client_cert_;
  std::filesystem::path client_key_;
};

}  // namespace vil::testing::cli
