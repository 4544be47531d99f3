#include "server_binaries.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "vil/testing/throwaway_cluster.hpp"

namespace vil::testing::detail {
namespace {

namespace fs = std::filesystem;

bool executable(const fs::path& file) {
  std::error_code ec;
  return fs::is_regular_file(file, ec) && access(file.c_str(), X_OK) == 0;
}

bool has_server(const fs::path& dir) {
  return executable(dir / "initdb") && executable(dir / "postgres");
}

std::optional<fs::path> pg_config_bindir() {
  // popen goes through /bin/sh, which finds pg_config on PATH for us.
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen("pg_config --bindir 2>/dev/null", "r"), pclose);
  if (!pipe) return std::nullopt;
  std::string out;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe.get())) out += buffer;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (out.empty()) return std::nullopt;
  return fs::path(out);
}

// /usr/lib/postgresql/<N>/bin with the highest numeric N that has a server.
std::optional<fs::path> debian_bindir() {
  std::error_code ec;
  std::optional<fs::path> best;
  long best_version = -1;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    char* end = nullptr;
    const long version = std::strtol(name.c_str(), &end, 10);
    if (end == name.c_str() || *end != '\0') continue;
    if (version > best_version && has_server(entry.path() / "bin")) {
      best_version = version;
      best = entry.path() / "bin";
    }
  }
  return best;
}

std::optional<fs::path> path_bindir() {
  const char* path = std::getenv("PATH");
  if (!path) return std::nullopt;
  std::string_view rest(path);
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const fs::path dir(std::string(rest.substr(0, colon)));
    if (!dir.empty() && has_server(dir)) return dir;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

std::string env_or(const char* name, std::string_view fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : std::string(fallback);
}

// The folder of one major version: the npm install first (it is there only
// because someone asked for it), then Debian's.
fs::path versioned_bindir(const std::string& version) {
  const bool numeric = !version.empty() && version.size() <= 3 &&
                       std::all_of(version.begin(), version.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
  if (!numeric) {
    throw ClusterError(fmt::format(
        "PostgreSQL version '{}' is not a major version number such as 16", version));
  }
  const fs::path servers = env_or("VIL_PG_SERVERS_DIR", VIL_PG_SERVERS_DIR_DEFAULT);
  const std::vector<fs::path> candidates = {
      servers / "node_modules" / ("pg" + version) / "native" / "bin",
      fs::path("/usr/lib/postgresql") / version / "bin"};
  for (const auto& dir : candidates) {
    if (has_server(dir)) return dir;
  }
  throw ClusterError(fmt::format(
      "no PostgreSQL {} server (initdb and postgres) in {} or {}; scripts/setup.sh --pg-versions "
      "installs 14, 16, 17 and 18 (set VIL_PG_SERVERS_DIR if they are elsewhere), Debian's "
      "postgresql package 15",
      version, candidates[0].string(), candidates[1].string()));
}

}  // namespace

fs::path find_server_bindir(std::string_view version) {
  if (const char* forced = std::getenv("VIL_PG_BINDIR"); forced && *forced) {
    if (has_server(forced)) return fs::path(forced);
    throw ClusterError(fmt::format(
        "VIL_PG_BINDIR={} has no initdb and postgres programs (unset it to search)", forced));
  }
  if (const std::string wanted = version.empty() ? env_or("VIL_PG_VERSION", "")
                                                 : std::string(version);
      !wanted.empty()) {
    return versioned_bindir(wanted);
  }
  std::vector<std::string> tried;
  if (auto dir = pg_config_bindir()) {
    if (has_server(*dir)) return *dir;
    tried.push_back(fmt::format("pg_config --bindir ({})", dir->string()));
  } else {
    tried.emplace_back("pg_config (not found)");
  }
  if (auto dir = debian_bindir()) return *dir;
  tried.emplace_back("/usr/lib/postgresql/*/bin");
  if (auto dir = path_bindir()) return *dir;
  tried.emplace_back("PATH");
  throw ClusterError(fmt::format(
      "cannot find the PostgreSQL server programs initdb and postgres; looked in: {}. Install "
      "the server (Debian: apt-get install postgresql) or set VIL_PG_BINDIR",
      fmt::join(tried, ", ")));
}

}  // namespace vil::testing::detail
