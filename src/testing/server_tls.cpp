#include "server_tls.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace vil::testing::detail {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCertName = "server.crt";
constexpr const char* kKeyName = "server.key";
constexpr const char* kCaName = "root.crt";

// What to copy where: the caller's file, the name in the data folder.
std::vector<std::pair<fs::path, const char*>> tls_files(const ServerTls& tls) {
  std::vector<std::pair<fs::path, const char*>> files = {{tls.cert_file, kCertName},
                                                         {tls.key_file, kKeyName}};
  if (!tls.ca_file.empty()) files.emplace_back(tls.ca_file, kCaName);
  return files;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> tls_settings(const ServerTls& tls) {
  std::vector<std::pair<std::string, std::string>> settings = {
      {"ssl", "on"}, {"ssl_cert_file", kCertName}, {"ssl_key_file", kKeyName}};
  if (!tls.ca_file.empty()) settings.emplace_back("ssl_ca_file", kCaName);
  return settings;
}

void check_tls_files(const ServerTls& tls) {
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    throw ClusterError("ServerTls needs both cert_file and key_file");
  }
  for (const auto& [source, name] : tls_files(tls)) {
    if (!std::ifstream(source)) {
      throw ClusterError(
          fmt::format("cannot read the TLS file {}: {}", source.string(), std::strerror(errno)));
    }
  }
}

void install_tls_files(const ServerTls& tls, const fs::path& data_dir,
                       const std::optional<Account>& account) {
  for (const auto& [source, name] : tls_files(tls)) {
    const fs::path target = data_dir / name;
    std::error_code ec;
    fs::copy_file(source, target, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      throw ClusterError(fmt::format("cannot copy the TLS file {} to {}: {}", source.string(),
                                     target.string(), ec.message()));
    }
    // The server refuses a key that others may read; 0600 suits them all.
    if (chmod(target.c_str(), S_IRUSR | S_IWUSR) != 0 ||
        (account && chown(target.c_str(), account->uid, account->gid) != 0)) {
      throw ClusterError(fmt::format("cannot make {} the server's own: {}", target.string(),
                                     std::strerror(errno)));
    }
  }
}

}  // namespace vil::testing::detail
