// Child processes for the cluster: initdb and the server, started with
// fork + exec so that we own their pid, optionally under another account.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vil::testing::detail {

// The unprivileged account that runs PostgreSQL when we are root.
struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// nullopt when the process is not root (everything runs as ourselves);
// otherwise `wanted`, or `postgres` if it exists, else `nobody`.
std::optional<Account> server_account(std::string_view wanted);

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is an absolute path
  std::filesystem::path cwd;
  std::filesystem::path output;  // stdout and stderr, appended; stdin is /dev/null
  const Account* account = nullptr;
  // A session of its own: a Ctrl-C on the terminal reaches only us, and we
  // decide how the server stops.
  bool new_session = true;
  int death_signal = 0;  // sent to the child when the spawning thread ends
};

// Throws ClusterError when fork or exec fails (with the step and errno).
pid_t spawn(const SpawnSpec& spec);

// The wait status once the child has exited, nullopt if still running at the
// deadline. A child reaped by someone else reports status 0.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout);

// "exit code 1", "signal 9 (Killed)".
std::string describe_wait_status(int status);

// Start time of a process in clock ticks since boot (field 22 of
// /proc/PID/stat): together with the pid it names one process, never a
// later process that reuses the pid. nullopt if there is no such process.
std::optional<unsigned long long> process_start_time(pid_t pid);

}  // namespace vil::testing::detail
