// Folders left behind by a run that was killed with SIGKILL: each of our
// folders carries a marker naming the process that made it, so a later run
// can tell a dead run's folder from a live one's.
#pragma once

#include <filesystem>

namespace vil::testing::detail {

inline constexpr const char* kFolderPrefix = "vil-pg-";
inline constexpr const char* kMarkerName = ".vil-pg-throwaway";

// Writes the marker (this process's pid and start time) into `root`.
void write_marker(const std::filesystem::path& root);

// Removes every vil-pg-* folder in `parent` that has a marker, whose maker is
// gone and whose server (data/postmaster.pid) is not running. Best effort:
// folders we may not remove are left alone.
void remove_stale_clusters(const std::filesystem::path& parent) noexcept;

}  // namespace vil::testing::detail
