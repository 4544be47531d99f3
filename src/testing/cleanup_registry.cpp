#include "cleanup_registry.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "stale_clusters.hpp"
#include "vil/testing/throwaway_cluster.hpp"

namespace vil::testing::detail {
namespace {

constexpr int kSlots = 64;
constexpr std::size_t kPathMax = 4096;

// Filled by the normal code, read by the signal handler: the owner is
// published last (release), so a handler that sees it also sees the path.
struct Entry {
  std::atomic<pid_t> owner{0};  // 0: free; -1: being filled
  std::atomic<pid_t> pid{0};
  std::atomic<bool> keep{false};
  char root[kPathMax]{};
};
static_assert(std::atomic<pid_t>::is_always_lock_free);

Entry g_entries[kSlots];

long monotonic_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

bool exited(pid_t pid) noexcept {
  int status = 0;
  const pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) return true;
  if (r < 0 && errno == ECHILD) return kill(pid, 0) != 0 && errno == ESRCH;
  return false;
}

// A kept folder loses its marker so that no later run sweeps it away.
void forget_marker(const char* root) noexcept {
  const int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  unlinkat(fd, kMarkerName, 0);
  close(fd);
}

// Stops every server of this process (not of a parent we were forked from)
// and removes the folders. Async-signal-safe.
void stop_and_remove_all() noexcept {
  const pid_t self = getpid();
  for (auto& entry : g_entries) {
    const pid_t pid = entry.pid.load(std::memory_order_acquire);
    if (entry.owner.load(std::memory_order_acquire) == self && pid > 0) kill(pid, SIGQUIT);
  }
  // SIGQUIT ends a server within milliseconds; SIGKILL is the last resort,
  // and the folder must not be removed under a live server.
  const long deadline = monotonic_ms() + 5000;
  for (auto& entry : g_entries) {
    const pid_t pid = entry.pid.load(std::memory_order_acquire);
    if (entry.owner.load(std::memory_order_acquire) != self || pid <= 0) continue;
    while (!exited(pid)) {
      if (monotonic_ms() >= deadline) {
        kill(pid, SIGKILL);
        for (int i = 0; i < 200 && !exited(pid); ++i) poll(nullptr, 0, 10);
        break;
      }
      poll(nullptr, 0, 10);
    }
    entry.pid.store(0, std::memory_order_release);
  }
  for (auto& entry : g_entries) {
    if (entry.owner.load(std::memory_order_acquire) != self) continue;
    if (!entry.keep.load(std::memory_order_acquire)) {
      remove_tree(entry.root);
    } else {
      forget_marker(entry.root);
    }
    entry.owner.store(0, std::memory_order_release);
  }
}

void on_signal(int sig) {
  const int saved_errno = errno;
  stop_and_remove_all();
  // Die of the same signal, so the parent (a shell, ctest) sees it: it is
  // blocked while we are in the handler and arrives when we return.
  signal(sig, SIG_DFL);
  raise(sig);
  errno = saved_errno;
}

bool is_dot(const char* name) noexcept {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

void remove_contents(int dir_fd) noexcept {
  alignas(dirent64) char buffer[4096];
  // Entries removed while reading may shift the directory's offsets, so read
  // it again until a pass removes nothing.
  for (int pass = 0; pass < 16; ++pass) {
    bool removed = false;
    lseek(dir_fd, 0, SEEK_SET);
    for (;;) {
      const ssize_t n = getdents64(dir_fd, buffer, sizeof buffer);
      if (n <= 0) break;
      for (ssize_t offset = 0; offset < n;) {
        const auto* entry = reinterpret_cast<const dirent64*>(buffer + offset);
        offset += entry->d_reclen;
        const char* name = entry->d_name;
        if (is_dot(name)) continue;
        bool is_dir = entry->d_type == DT_DIR;
        if (entry->d_type == DT_UNKNOWN) {
          struct stat st {};
          is_dir = fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (is_dir) {
          const int sub = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0) {
            remove_contents(sub);
            close(sub);
          }
        }
        if (unlinkat(dir_fd, name, is_dir ? AT_REMOVEDIR : 0) == 0) removed = true;
      }
    }
    if (!removed) break;
  }
}

}  // namespace

int register_cluster(const std::filesystem::path& root_dir) {
  const std::string root = root_dir.string();
  if (root.size() >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    auto& entry = g_entries[i];
    pid_t expected = 0;
    if (!entry.owner.compare_exchange_strong(expected, -1, std::memory_order_acq_rel)) continue;
    std::memcpy(entry.root, root.c_str(), root.size() + 1);
    entry.pid.store(0, std::memory_order_relaxed);
    entry.keep.store(false, std::memory_order_relaxed);
    entry.owner.store(getpid(), std::memory_order_release);
    return i;
  }
  return -1;
}

void set_registered_pid(int slot, pid_t pid) {
  if (slot >= 0 && slot < kSlots) g_entries[slot].pid.store(pid, std::memory_order_release);
}

void set_registered_keep(int slot, bool keep) {
  if (slot >= 0 && slot < kSlots) g_entries[slot].keep.store(keep, std::memory_order_release);
}

void unregister_cluster(int slot) {
  if (slot < 0 || slot >= kSlots) return;
  g_entries[slot].pid.store(0, std::memory_order_release);
  g_entries[slot].owner.store(0, std::memory_order_release);
}

bool remove_tree(const char* path) noexcept {
  const int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT;
  remove_contents(fd);
  close(fd);
  return rmdir(path) == 0 || errno == ENOENT;
}

}  // namespace vil::testing::detail

namespace vil::testing {

void install_cleanup_on_signal() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    sigaction(sig, nullptr, &old);
    if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_handler = detail::on_signal;
    sigemptyset(&action.sa_mask);
    sigaddset(&action.sa_mask, SIGINT);
    sigaddset(&action.sa_mask, SIGTERM);
    sigaddset(&action.sa_mask, SIGHUP);
    sigaction(sig, &action, nullptr);
  }
}

}  // namespace vil::testing
