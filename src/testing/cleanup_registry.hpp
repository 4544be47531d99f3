// The process-wide list of live clusters, readable from a signal handler, so
// that SIGINT/SIGTERM can stop their servers and remove their folders.
#pragma once

#include <sys/types.h>

#include <filesystem>

namespace vil::testing::detail {

// A slot in the registry, or -1 when it is full (the cluster then works, but
// a signal will not clean it up).
int register_cluster(const std::filesystem::path& root_dir);
void set_registered_pid(int slot, pid_t pid);  // the running server or initdb; 0: none
void set_registered_keep(int slot, bool keep);
void unregister_cluster(int slot);

// Removes a folder tree. Async-signal-safe (raw openat/getdents64/unlinkat, no
// allocation), so the signal handler and the normal path share it. Returns
// false if something could not be removed.
bool remove_tree(const char* path) noexcept;

}  // namespace vil::testing::detail
