#include "cli/test_certificates.hpp"

#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace vil::testing::cli {
namespace {

using namespace std::chrono_literals;

void openssl(const std::vector<std::string>& args) {
  const ProcessResult r = run_process("/usr/bin/openssl", args, 30s);
  if (!r.exited(0)) {
    throw std::runtime_error(
        fmt::format("openssl {} failed: {}", fmt::join(args, " "), r.describe()));
  }
}

// The arguments that make a new P-256 key (unencrypted) into `key`.
std::vector<std::string> new_key(const std::string& key) {
  return {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key};
}

}  // namespace

TestCertificates::TestCertificates(const std::string& client_role) {
  make_ca("ca");
  make_ca("other-ca");
  make_signed("server", "/CN=localhost", "ca",
              "subjectAltName = DNS:localhost, IP:127.0.0.1\n"
              "extendedKeyUsage = serverAuth\n");
  make_signed("client", "/CN=" + client_role, "ca", "extendedKeyUsage = clientAuth\n");
  ca_cert_ = file("ca.crt");
  other_ca_cert_ = file("other-ca.crt");
  server_cert_ = file("server.crt");
  server_key_ = file("server.key");
  client_cert_ = file("client.crt");
  client_key_ = file("client.key");
}

void TestCertificates::make_ca(const std::string& name) {
  std::vector<std::string> args = {"req", "-x509", "-days", "2", "-subj", "/CN=vil test CA"};
  for (auto& arg : new_key(file(name + ".key").string())) args.push_back(std::move(arg));
  for (const char* extension :
       {"basicConstraints = critical, CA:TRUE", "keyUsage = critical, keyCertSign, cRLSign"}) {
    args.insert(args.end(), {"-addext", extension});
  }
  args.insert(args.end(), {"-out", file(name + ".crt").string()});
  openssl(args);
}

void TestCertificates::make_signed(const std::string& name, const std::string& subject,
                                   const std::string& ca, const std::string& extensions) {
  const std::string request = file(name + ".csr").string();
  std::vector<std::string> args = {"req", "-new", "-subj", subject, "-out", request};
  for (auto& arg : new_key(file(name + ".key").string())) args.push_back(std::move(arg));
  openssl(args);
  const auto extension_file = file(name + ".ext");
  write_text_file(extension_file, extensions);
  // OpenSSL 3 draws the serial number at random.
  openssl({"x509", "-req", "-in", request, "-days", "2", "-CA", file(ca + ".crt").string(),
           "-CAkey", file(ca + ".key").string(), "-extfile", extension_file.string(), "-out",
           file(name + ".crt").string()});
}

}  // namespace vil::testing::cli
