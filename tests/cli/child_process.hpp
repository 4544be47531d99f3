// A program run as a child process for end-to-end tests: its stdout and
// stderr captured, its exit status kept, and a deadline after which it is
// killed (with every process it started) and reported as hung.
//
//   ChildProcess child(path, {"stream", "--conn", ...});
//   ... child.send_signal(SIGTERM);
//   ProcessResult r = child.wait(std::chrono::seconds(30));
//   EXPECT_EQ(r.exit_code, 0) << r.describe();
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vil::testing {

struct ProcessResult {
  int exit_code = -1;      // when the process exited; -1 otherwise
  int term_signal = 0;     // the signal that ended it, or 0
  bool timed_out = false;  // it outlived its deadline and was killed
  std::string out;         // stdout
  std::string err;         // stderr

  bool exited(int code) const { return !timed_out && term_signal == 0 && exit_code == code; }
  // How it ended and what it printed, for failure messages.
  std::string describe() const;
};

struct ChildOptions {
  // stderr is a pseudo-terminal (raw mode: bytes arrive as written) instead
  // of a pipe, so that the program sees a terminal there (isatty).
  bool stderr_tty = false;
};

class ChildProcess {
 public:
  // Starts `program` with `args`; `env` ("NAME=value") is added to this
  // process's environment, replacing variables of the same name. stdin is
  // /dev/null. The child gets a process group of its own.
  ChildProcess(std::string program, std::vector<std::string> args,
               std::vector<std::string> env = {}, ChildOptions options = {});
  ~ChildProcess();  // kills it if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // True once the process has exited (and been reaped).
  bool finished() const;
  void send_signal(int sig) const;
  // What it has written so far (while it runs).
  std::string out_so_far() const;
  std::string err_so_far() const;
  // Waits until the process exited and its output ended; past the deadline,
  // kills its process group and reports timed_out.
  ProcessResult wait(std::chrono::milliseconds deadline);

 private:
  void collect(int out_fd, int err_fd);

  std::string program_;
  pid_t pid_ = -1;
  mutable std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  ProcessResult result_;  // out and err grow while it runs
  std::thread collector_;
};

// Runs a program to its end (or its deadline).
ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                          std::chrono::milliseconds deadline,
                          const std::vector<std::string>& env = {}, ChildOptions options = {});

}  // namespace vil::testing
