// pg-throwaway: runs a command next to a throwaway PostgreSQL cluster, the
// same harness the tests use, for shell scripts, demos and benchmarks.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vil/testing/throwaway_cluster.hpp"

namespace {

// Exit codes of our own failures, as env(1) and timeout(1) use them.
constexpr int kUsageError = 2;
constexpr int kClusterError = 125;
constexpr int kCannotExecute = 126;
constexpr int kNotFound = 127;

constexpr std::string_view kHelp = R"(Usage: pg-throwaway [OPTIONS] -- COMMAND [ARGS...]

Starts a throwaway PostgreSQL cluster (initdb in a temporary folder,
wal_level=logical, a free port on 127.0.0.1, trust authentication), runs
COMMAND with the environment below, then stops the server, removes the folder
and exits with COMMAND's status.

Options:
  --set KEY=VALUE   a postgresql.conf setting (repeatable), after the defaults
  --durable         keep fsync, synchronous_commit and full_page_writes on
                    (default: off, which is faster and fine for throwaway data)
  --keep            keep the cluster folder afterwards (also VIL_PG_KEEP=1)
  --pg VERSION      the server's major version, 14 to 18 (also VIL_PG_VERSION;
                    default: the installed one; see scripts/setup.sh --pg-versions)
  --verbose         print the connection string and folder on stderr
  -h, --help        this text

COMMAND's environment:
  VIL_PG_CONNINFO   libpq connection string (host=127.0.0.1 port=N user=postgres dbname=postgres)
  PGHOST PGPORT PGUSER PGDATABASE   the same, for psql and other libpq programs
  VIL_PG_BINDIR     the folder of the server programs (initdb, postgres; Debian's
                    also has pg_recvlogical, ...)
  VIL_PG_DATADIR    the data folder;  VIL_PG_LOG  the server log

SIGINT, SIGTERM and SIGHUP sent to pg-throwaway are passed on to COMMAND
(a Ctrl-C on the terminal already reaches COMMAND and is not sent twice); the
cluster goes away when COMMAND has exited. When run as root, the server runs as
the 'postgres' account (else 'nobody').

Exit status: COMMAND's; 128+N if it died of signal N; 2 usage error;
125 the cluster did not start; 126 COMMAND cannot be run; 127 not found.

Example:
  pg-throwaway --set wal_sender_timeout=5s -- psql -c 'select version()'
)";

struct Arguments {
  vil::testing::ClusterOptions options;
  bool verbose = false;
  std::vector<std::string> command;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "pg-throwaway: %s\nTry 'pg-throwaway --help'.\n", message.c_str());
  std::exit(kUsageError);
}

void add_setting(Arguments& args, std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    usage_error(fmt::format("--set needs KEY=VALUE, got '{}'", text));
  }
  args.options.settings.emplace_back(std::string(text.substr(0, eq)),
                                     std::string(text.substr(eq + 1)));
}

Arguments parse(int argc, char** argv) {
  Arguments args;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "-h" || arg == "--help") {
      std::fwrite(kHelp.data(), 1, kHelp.size(), stdout);
      std::exit(0);
    } else if (arg == "--set") {
      if (i + 1 >= argc) usage_error("--set needs KEY=VALUE");
      add_setting(args, argv[++i]);
    } else if (arg.rfind("--set=", 0) == 0) {
      add_setting(args, arg.substr(6));
    } else if (arg == "--durable") {
      args.options.durable = true;
    } else if (arg == "--keep") {
      args.options.keep = true;
    } else if (arg == "--pg") {
      if (i + 1 >= argc) usage_error("--pg needs a major version such as 16");
      args.options.server_version = argv[++i];
    } else if (arg == "--verbose") {
      args.verbose = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      usage_error(fmt::format("unknown option '{}'", arg));
    } else {
      break;  // the command, without a "--" before it
    }
  }
  for (; i < argc; ++i) args.command.emplace_back(argv[i]);
  if (args.command.empty()) usage_error("no COMMAND to run");
  return args;
}

// The signals passed on to the command. They stay blocked while it runs and
// are taken with sigwaitinfo, so no handler runs at an awkward moment.
sigset_t forwarded_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

// Waits for the command to exit, passing signals on; returns its wait status.
int wait_forwarding(pid_t child) {
  sigset_t set = forwarded_signals();
  sigaddset(&set, SIGCHLD);
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) return status;
    if (r < 0 && errno != EINTR) return 0;
    siginfo_t info{};
    const int sig = sigwaitinfo(&set, &info);
    // A terminal's Ctrl-C (sent by the kernel) already reached the command,
    // which shares our process group.
    if (sig > 0 && sig != SIGCHLD && info.si_code != SI_KERNEL) kill(child, sig);
  }
}

void export_environment(const vil::testing::ThrowawayCluster& pg) {
  const auto set = [](const char* name, const std::string& value) {
    setenv(name, value.c_str(), 1);
  };
  set("VIL_PG_CONNINFO", pg.conninfo());
  set("PGHOST", "127.0.0.1");
  set("PGPORT", std::to_string(pg.port()));
  set("PGUSER", pg.superuser());
  set("PGDATABASE", "postgres");
  set("VIL_PG_BINDIR", pg.bindir().string());
  set("VIL_PG_DATADIR", pg.data_dir().string());
  set("VIL_PG_LOG", pg.log_path().string());
  // These would send libpq programs elsewhere than PGHOST says.
  unsetenv("PGHOSTADDR");
  unsetenv("PGSERVICE");
}

// What execvp would say about the command, checked before the cluster is
// made so that a typo costs no initdb: 0, kNotFound or kCannotExecute.
int check_command(const std::string& name) {
  const auto check = [](const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return kNotFound;
    return S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0 ? 0 : kCannotExecute;
  };
  int verdict = kNotFound;
  if (name.find('/') != std::string::npos) {
    verdict = check(name);
  } else {
    const char* path_env = std::getenv("PATH");
    std::string_view rest = path_env && *path_env ? path_env : "/bin:/usr/bin";
    for (;;) {
      const auto colon = rest.find(':');
      std::string dir(rest.substr(0, colon));
      const int found = check((dir.empty() ? std::string(".") : dir) + "/" + name);
      if (found == 0) return 0;
      if (found == kCannotExecute) verdict = kCannotExecute;
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  if (verdict != 0) {
    std::fprintf(stderr, "pg-throwaway: cannot run '%s': %s\n", name.c_str(),
                 verdict == kNotFound ? "command not found" : "not an executable file");
  }
  return verdict;
}

// Runs the command and returns its wait status; exits on exec failure.
int run_command(const std::vector<std::string>& command) {
  std::vector<char*> argv;
  for (const auto& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  std::array<int, 2> pipe_fds{};
  if (pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
    std::fprintf(stderr, "pg-throwaway: pipe: %s\n", std::strerror(errno));
    return kCannotExecute << 8;
  }
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  const pid_t pid = fork();
  if (pid == 0) {
    for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, nullptr);
    execvp(argv[0], argv.data());
    const int error = errno;
    [[maybe_unused]] ssize_t ignored = write(pipe_fds[1], &error, sizeof error);
    _exit(kNotFound);
  }
  const int fork_errno = errno;
  sigprocmask(SIG_SETMASK, &old, nullptr);
  close(pipe_fds[1]);
  if (pid < 0) {
    close(pipe_fds[0]);
    std::fprintf(stderr, "pg-throwaway: fork: %s\n", std::strerror(fork_errno));
    return kCannotExecute << 8;
  }

  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(pipe_fds[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  close(pipe_fds[0]);

  const int status = wait_forwarding(pid);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    std::fprintf(stderr, "pg-throwaway: cannot run '%s': %s\n", command[0].c_str(),
                 std::strerror(exec_errno));
    return (exec_errno == ENOENT ? kNotFound : kCannotExecute) << 8;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments args = parse(argc, argv);
  if (const int verdict = check_command(args.command[0]); verdict != 0) return verdict;
  // Until the command runs, a signal just removes the cluster.
  vil::testing::install_cleanup_on_signal();
  int status = 0;
  {
    std::optional<vil::testing::ThrowawayCluster> pg;
    try {
      pg.emplace(vil::testing::ThrowawayCluster::start(std::move(args.options)));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pg-throwaway: %s\n", e.what());
      return kClusterError;
    }
    if (args.verbose) {
      std::fprintf(stderr, "pg-throwaway: %s (data %s, log %s)\n", pg->conninfo().c_str(),
                   pg->data_dir().c_str(), pg->log_path().c_str());
    }
    export_environment(*pg);
    sigset_t blocked = forwarded_signals();
    sigaddset(&blocked, SIGCHLD);
    sigprocmask(SIG_BLOCK, &blocked, nullptr);
    status = run_command(args.command);
    // Leaving the scope stops the server and removes the folder; signals
    // stay blocked meanwhile (the command is gone: no one to pass them to).
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
