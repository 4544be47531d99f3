#include "cli/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

extern char** environ;

namespace vil::testing {

namespace {

// After the child exited, output still open (a grandchild holding the pipe)
// is read for this long at most.
constexpr auto kLinger = std::chrono::seconds(5);

std::string tail(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  return "..." + text.substr(text.size() - max);
}

std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& x : extra) replaced = replaced || x.substr(0, x.find('=')) == name;
    if (!replaced) out.push_back(entry);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::string ProcessResult::describe() const {
  std::string how;
  if (timed_out) {
    how = "did not finish before its deadline and was killed";
  } else if (term_signal != 0) {
    how = fmt::format("died of signal {} ({})", term_signal, strsignal(term_signal));
  } else {
    how = fmt::format("exited with {}", exit_code);
  }
  return fmt::format("the process {}\n--- stderr ---\n{}\n--- stdout ({} bytes) ---\n{}\n---", how,
                     tail(err, 4000), out.size(), tail(out, 2000));
}

ChildProcess::ChildProcess(std::string program, std::vector<std::string> args,
                           std::vector<std::string> env, ChildOptions options)
    : program_(std::move(program)) {
  // Everything the child needs is built before fork(): after it, only
  // async-signal-safe calls.
  std::vector<std::string> argv_strings{program_};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = merged_environment(env);
  std::vector<char*> argv = pointers(argv_strings);
  std::vector<char*> envp = pointers(env_strings);

  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error(fmt::format("pipe2: {}", std::strerror(errno)));
  }
  if (options.stderr_tty) {
    // The pty's two ends take the place of the stderr pipe: [0] is read here,
    // [1] becomes the child's stderr.
    close(err_pipe[0]);
    close(err_pipe[1]);
    termios raw{};
    cfmakeraw(&raw);
    if (openpty(&err_pipe[0], &err_pipe[1], nullptr, &raw, nullptr) != 0) {
      throw std::runtime_error(fmt::format("openpty: {}", std::strerror(errno)));
    }
    fcntl(err_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(err_pipe[1], F_SETFD, FD_CLOEXEC);
  }
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid_ == 0) {
    setpgid(0, 0);
    // The test process may block or catch signals; the program starts clean.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT}) signal(sig, SIG_DFL);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(out_pipe[1], STDOUT_FILENO) < 0 ||
        dup2(err_pipe[1], STDERR_FILENO) < 0) {
      _exit(126);
    }
    execve(argv[0], argv.data(), envp.data());
    const char message[] = "child_process: execve failed\n";
    [[maybe_unused]] auto n = write(STDERR_FILENO, message, sizeof message - 1);
    _exit(127);
  }
  // Also here, so that a signal sent right away reaches the group.
  setpgid(pid_, pid_);
  close(out_pipe[1]);
  close(err_pipe[1]);
  collector_ = std::thread([this, out = out_pipe[0], err = err_pipe[0]] { collect(out, err); });
}

ChildProcess::~ChildProcess() {
  if (!finished()) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
  }
  if (collector_.joinable()) collector_.join();
}

void ChildProcess::collect(int out_fd, int err_fd) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  bool open[2] = {true, true};
  bool reaped = false;
  int status = 0;
  std::chrono::steady_clock::time_point exited_at;
  char buffer[65536];
  while (open[0] || open[1]) {
    for (int i = 0; i < 2; ++i) fds[i].fd = open[i] ? (i == 0 ? out_fd : err_fd) : -1;
    const int ready = poll(fds, 2, 100);
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (!open[i] || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        std::lock_guard lock(mutex_);
        (i == 0 ? result_.out : result_.err).append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        // A pty reports the end (the child closed it) as EIO.
        open[i] = false;
      }
    }
    if (!reaped && waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped = true;
      exited_at = std::chrono::steady_clock::now();
    }
    if (reaped && std::chrono::steady_clock::now() - exited_at > kLinger) break;
  }
  close(out_fd);
  close(err_fd);
  if (!reaped) waitpid(pid_, &status, 0);
  std::lock_guard lock(mutex_);
  if (WIFEXITED(status)) result_.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result_.term_signal = WTERMSIG(status);
  done_ = true;
  done_cv_.notify_all();
}

bool ChildProcess::finished() const {
  std::lock_guard lock(mutex_);
  return done_;
}

std::string ChildProcess::out_so_far() const {
  std::lock_guard lock(mutex_);
  return result_.out;
}

std::string ChildProcess::err_so_far() const {
  std::lock_guard lock(mutex_);
  return result_.err;
}

void ChildProcess::send_signal(int sig) const {
  if (!finished()) kill(pid_, sig);
}

ProcessResult ChildProcess::wait(std::chrono::milliseconds deadline) {
  bool timed_out = false;
  {
    std::unique_lock lock(mutex_);
    if (!done_cv_.wait_for(lock, deadline, [&] { return done_; })) {
      timed_out = true;
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      done_cv_.wait(lock, [&] { return done_; });
    }
  }
  collector_.join();
  ProcessResult result = result_;
  result.timed_out = timed_out;
  return result;
}

ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                          std::chrono::milliseconds deadline, const std::vector<std::string>& env,
                          ChildOptions options) {
  ChildProcess child(program, args, env, options);
  return child.wait(deadline);
}

}  // namespace vil::testing
