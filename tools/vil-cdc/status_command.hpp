#pragma once
// `vil-cdc status`: the server's logical slots as an operator needs to see
// them (plugin, database, who holds it, how far it is confirmed, its lag and
// what the server keeps for it), and a publication's tables; a table, or
// JSON with --json. `vil-cdc drop-slot`: drops a slot, only when asked twice
// (--yes). Each returns the process's exit code (docs/DESIGN.md §5).

#include <string>

#include <CLI/CLI.hpp>

namespace vil::cli {

class StatusOptions {
 public:
  void add_to(CLI::App& command);
  [[nodiscard]] int run() const;

 private:
  std::string conn_, slot_, publication_;
  bool json_ = false;
};

class DropSlotOptions {
 public:
  void add_to(CLI::App& command);
  [[nodiscard]] int run() const;

 private:
  std::string conn_, slot_;
  bool yes_ = false;
};

}  // namespace vil::cli
