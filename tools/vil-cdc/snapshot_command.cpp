#include "snapshot_command.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "exit_codes.hpp"
#include "vil/cdc/snapshot_request.hpp"

namespace vil::cli {

void SnapshotOptions::add_to(CLI::App& command) {
  command.add_option("--conn", conn_, "libpq connection string or URI of the database")->required();
  command.add_option("--publication", publication_, "the publication the streams read")->required();
  command
      .add_option("--table", tables_,
                  "a table to read again: schema.table, or table when one schema has it "
                  "(repeat for more)")
      ->required();
  command.add_flag("--quiet,-q", quiet_, "print nothing when the request was taken");
}

int SnapshotOptions::run() const {
  auto requested = cdc::request_snapshot(conn_, publication_, tables_);
  if (!requested) {
    std::fprintf(stderr, "vil-cdc: %s\n", requested.error().message().c_str());
    // A refused request is about the publication's tables (exit 4), as an
    // unknown publication is.
    if (requested.error().get<cdc::SnapshotFailed>() != nullptr) return ExitSlot;
    return exit_code_for(requested.error());
  }
  if (!quiet_) {
    std::fprintf(stderr,
                 "vil-cdc: requested a snapshot of %zu table%s of publication \"%s\" at %s\n",
                 tables_.size(), tables_.size() == 1 ? "" : "s", publication_.c_str(),
                 pgoutput::to_string(*requested).c_str());
  }
  return ExitOk;
}

}  // namespace vil::cli
