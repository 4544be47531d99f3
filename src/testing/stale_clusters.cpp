#include "stale_clusters.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "cleanup_registry.hpp"
#include "process.hpp"
#include "vil/testing/throwaway_cluster.hpp"

namespace vil::testing::detail {
namespace {

namespace fs = std::filesystem;

bool alive(pid_t pid) {
  return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

// The marker's maker still runs: same pid and same start time.
bool maker_alive(const fs::path& marker) {
  std::ifstream in(marker);
  std::string magic;
  long pid = 0;
  unsigned long long start = 0;
  if (!(in >> magic >> pid >> start) || magic != "vil-pg-throwaway") return true;  // not ours
  const auto now = process_start_time(static_cast<pid_t>(pid));
  return now && *now == start;
}

// The server named by postmaster.pid still runs in this data folder (a
// server chdirs to its data folder; a reused pid is some other process).
bool server_alive(const fs::path& data_dir) {
  std::ifstream in(data_dir / "postmaster.pid");
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return false;
  if (!alive(static_cast<pid_t>(pid))) return false;
  std::error_code ec;
  const auto cwd = fs::read_symlink(fmt::format("/proc/{}/cwd", pid), ec);
  if (ec) return true;  // cannot tell: leave it alone
  return fs::equivalent(cwd, data_dir, ec) || ec;
}

}  // namespace

void write_marker(const fs::path& root) {
  const auto start = process_start_time(getpid());
  std::ofstream out(root / kMarkerName);
  out << "vil-pg-throwaway " << getpid() << ' ' << start.value_or(0) << '\n';
  if (!out.flush()) {
    throw ClusterError(fmt::format("cannot write {}", (root / kMarkerName).string()));
  }
}

void remove_stale_clusters(const fs::path& parent) noexcept {
  try {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(parent, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(kFolderPrefix, 0) != 0) continue;
      if (!entry.is_directory(ec) || entry.is_symlink(ec)) continue;
      const fs::path marker = entry.path() / kMarkerName;
      if (!fs::exists(marker, ec)) continue;  // not ours, or not readable by us
      if (maker_alive(marker) || server_alive(entry.path() / "data")) continue;
      remove_tree(entry.path().c_str());
    }
  } catch (...) {
    // A sweep is a courtesy; it must never stop a cluster from starting.
  }
}

}  // namespace vil::testing::detail
