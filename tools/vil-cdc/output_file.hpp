#pragma once
// Opening --output: stdout, or a file appended to. A file that --fsync
// writes and that this run created has its folder fsynced once, right away:
// fdatasync makes the file's data durable, not the folder's entry naming
// it, and without that a crash could lose a file whose lines were already
// confirmed to the server.

#include <expected>
#include <string>

namespace vil::cli {

struct OutputFile {
  int fd = -1;       // STDOUT_FILENO for "-"
  std::string name;  // "stdout" or the path, for messages
  bool created = false;
};

// The error names the path and the operating system's reason.
std::expected<OutputFile, std::string> open_output(const std::string& path, bool fsync);

// Closes a file (never stdout).
void close_output(const OutputFile& file);

}  // namespace vil::cli
