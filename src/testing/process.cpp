#include "process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "vil/testing/throwaway_cluster.hpp"

namespace vil::testing::detail {
namespace {

std::optional<Account> lookup_account(const std::string& name) {
  std::array<char, 4096> buffer{};
  passwd entry{};
  passwd* found = nullptr;
  if (getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return std::nullopt;
  }
  return Account{name, found->pw_uid, found->pw_gid};
}

// What the child reports through the close-on-exec pipe when a step fails.
struct ChildFailure {
  int step;
  int error;
};

constexpr std::array<const char*, 9> kStepNames = {
    "setsid", "setgroups",   "setgid",         "setuid", "prctl(PR_SET_PDEATHSIG)",
    "chdir",  "open output", "open /dev/null", "exec"};

[[noreturn]] void child_fail(int pipe_fd, int step) {
  ChildFailure failure{step, errno};
  // Nothing to do if this write fails: the parent then sees exit code 127.
  [[maybe_unused]] ssize_t ignored = write(pipe_fd, &failure, sizeof failure);
  _exit(127);
}

// Runs between fork and exec: async-signal-safe calls only.
[[noreturn]] void run_child(const SpawnSpec& spec, char* const* argv, const char* cwd,
                            const char* output, pid_t parent, int pipe_fd, int max_fd,
                            const sigset_t& empty) {
  // Handlers of the parent (our cleanup handler among them) must not run here.
  for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
  if (spec.new_session && setsid() < 0) child_fail(pipe_fd, 0);
  if (spec.account) {
    gid_t gid = spec.account->gid;
    if (setgroups(1, &gid) != 0) child_fail(pipe_fd, 1);
    if (setgid(gid) != 0) child_fail(pipe_fd, 2);
    if (setuid(spec.account->uid) != 0) child_fail(pipe_fd, 3);
  }
  // After setuid: a change of credentials clears the death signal.
  if (spec.death_signal != 0) {
    if (prctl(PR_SET_PDEATHSIG, spec.death_signal) != 0) child_fail(pipe_fd, 4);
    // The parent may have died before prctl took effect.
    if (getppid() != parent) _exit(127);
  }
  if (chdir(cwd) != 0) child_fail(pipe_fd, 5);
  int in = open("/dev/null", O_RDONLY);
  if (in < 0) child_fail(pipe_fd, 7);
  dup2(in, STDIN_FILENO);
  if (output) {
    int out = open(output, O_WRONLY | O_CREAT | O_APPEND, 0640);
    if (out < 0) child_fail(pipe_fd, 6);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
  }
  // The server must not hold the test's pipes and sockets open: a reader
  // waiting for their end would wait as long as the server runs.
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < max_fd; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  execv(argv[0], argv);
  child_fail(pipe_fd, 8);
}

void sleep_ms(int ms) {
  poll(nullptr, 0, ms);
}

}  // namespace

std::optional<Account> server_account(std::string_view wanted) {
  if (geteuid() != 0) return std::nullopt;
  if (!wanted.empty()) {
    auto account = lookup_account(std::string(wanted));
    if (!account) {
      throw ClusterError(fmt::format("no account named '{}' to run PostgreSQL as", wanted));
    }
    if (account->uid == 0) {
      throw ClusterError(fmt::format(
          "account '{}' is root; PostgreSQL refuses to run as root, name another account", wanted));
    }
    return account;
  }
  for (const char* name : {"postgres", "nobody"}) {
    if (auto account = lookup_account(name); account && account->uid != 0) return account;
  }
  throw ClusterError(
      "running as root, but there is neither a 'postgres' nor a 'nobody' account to run "
      "PostgreSQL as (it refuses to run as root)");
}

pid_t spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) throw ClusterError("spawn: empty command");
  std::vector<char*> argv;
  argv.reserve(spec.argv.size() + 1);
  for (const auto& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const std::string cwd = spec.cwd.empty() ? std::string("/") : spec.cwd.string();
  const std::string output = spec.output.string();

  std::array<int, 2> pipe_fds{};
  if (pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
    throw ClusterError(fmt::format("pipe: {}", std::strerror(errno)));
  }
  // Signals stay blocked across fork so that no handler runs in the child
  // before it has reset them.
  sigset_t all;
  sigset_t old;
  sigset_t empty;
  sigfillset(&all);
  sigemptyset(&empty);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t parent = getpid();
  const long open_max = sysconf(_SC_OPEN_MAX);
  const int max_fd = open_max > 0 && open_max < 65536 ? static_cast<int>(open_max) : 65536;
  const pid_t pid = fork();
  if (pid == 0) {
    close(pipe_fds[0]);
    run_child(spec, argv.data(), cwd.c_str(), output.empty() ? nullptr : output.c_str(), parent,
              pipe_fds[1], max_fd, empty);
  }
  const int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(pipe_fds[1]);
  if (pid < 0) {
    close(pipe_fds[0]);
    throw ClusterError(fmt::format("fork for {}: {}", spec.argv[0], std::strerror(fork_errno)));
  }

  ChildFailure failure{};
  ssize_t n;
  do {
    n = read(pipe_fds[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  close(pipe_fds[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    wait_for_exit(pid, std::chrono::seconds(5));
    const char* step = failure.step >= 0 && failure.step < static_cast<int>(kStepNames.size())
                           ? kStepNames[static_cast<std::size_t>(failure.step)]
                           : "?";
    std::string as;
    if (spec.account) as = fmt::format(" as user '{}'", spec.account->name);
    throw ClusterError(fmt::format("cannot start {}{}: {} failed: {}", spec.argv[0], as, step,
                                   std::strerror(failure.error)));
  }
  return pid;
}

std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno == ECHILD) {
      // Reaped elsewhere (SIGCHLD ignored, or someone else's waitpid(-1)).
      if (kill(pid, 0) != 0 && errno == ESRCH) return 0;
    } else if (r < 0 && errno != EINTR) {
      return 0;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    sleep_ms(5);
  }
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exit code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return fmt::format("signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  }
  return fmt::format("wait status {}", status);
}

std::optional<unsigned long long> process_start_time(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // The command name (field 2) may hold spaces and parentheses: fields
  // resume after its last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  // Fields 3..21, then 22 is the start time.
  for (int i = 3; i <= 21; ++i) {
    if (!(fields >> field)) return std::nullopt;
  }
  unsigned long long start = 0;
  if (!(fields >> start)) return std::nullopt;
  return start;
}

}  // namespace vil::testing::detail
