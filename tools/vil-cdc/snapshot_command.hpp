#pragma once
// `vil-cdc snapshot`: asks the streams of a publication for an incremental
// snapshot of some of its tables (docs/DESIGN.md §6.9), and exits once the
// request committed. Returns the process's exit code.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace vil::cli {

class SnapshotOptions {
 public:
  void add_to(CLI::App& command);
  [[nodiscard]] int run() const;

 private:
  std::string conn_, publication_;
  std::vector<std::string> tables_;
  bool quiet_ = false;
};

}  // namespace vil::cli
