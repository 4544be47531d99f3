// vil-cdc: stream PostgreSQL changes (logical replication, pgoutput) as JSON
// lines or Debezium envelopes; `vil-cdc demo` shows it on a throwaway server.

#include <cstdio>
#include <string_view>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "demo_command.hpp"
#include "exit_codes.hpp"
#include "signal_watch.hpp"
#include "snapshot_command.hpp"
#include "status_command.hpp"
#include "stream_command.hpp"
#include "stream_settings.hpp"
#include "vil/output/change_encoder.hpp"

int main(int argc, char** argv) {
  using namespace vil::cli;
  // First, before any thread exists.
  SignalWatch signals;

  CLI::App app{"vil-cdc: PostgreSQL change data capture over logical replication (pgoutput)",
               "vil-cdc"};
  app.require_subcommand(1);
  // The project's version, from CMake (output::library_version()).
  app.set_version_flag("--version", fmt::format("vil-cdc {}", vil::output::library_version()));
  // Usage errors are one line on stderr, like every other error.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return fmt::format("vil-cdc: {} (see vil-cdc --help)\n", e.what());
  });

  CLI::App* stream = app.add_subcommand(
      "stream", "Stream committed changes from a slot to stdout or a file, in commit order");
  StreamOptions stream_options;
  stream_options.add_to(*stream);

  CLI::App* demo = app.add_subcommand(
      "demo", "Start a throwaway PostgreSQL, write to a demo shop and stream its changes");
  DemoOptions demo_options;
  std::string demo_format = "jsonl";
  demo->add_option("--max-events", demo_options.max_events, "changes to stream before exiting")
      ->capture_default_str();
  demo->add_option("--rate", demo_options.rate, "writer transactions per second")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  demo->add_option("--format", demo_format, "jsonl or debezium")->capture_default_str();

  CLI::App* snapshot = app.add_subcommand(
      "snapshot",
      "Ask the running streams of a publication to read some of its tables again "
      "(an incremental snapshot), and exit");
  SnapshotOptions snapshot_options;
  snapshot_options.add_to(*snapshot);

  CLI::App* status = app.add_subcommand(
      "status", "Show the server's logical slots: holder, confirmed position, lag, WAL kept");
  StatusOptions status_options;
  status_options.add_to(*status);

  CLI::App* drop_slot =
      app.add_subcommand("drop-slot", "Drop a logical replication slot (asks for --yes)");
  DropSlotOptions drop_slot_options;
  drop_slot_options.add_to(*drop_slot);

  // CLI11 would only say that a subcommand is required.
  const auto known = [&](std::string_view name) {
    for (const CLI::App* command : {stream, demo, snapshot, status, drop_slot}) {
      if (command->get_name() == name) return true;
    }
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !known(argv[1])) {
    std::fprintf(stderr,
                 "vil-cdc: '%s' is not a command: use stream, snapshot, status, drop-slot or "
                 "demo (see vil-cdc --help)\n",
                 argv[1]);
    return ExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? ExitOk : ExitUsage;
  }

  if (stream->parsed()) {
    auto settings = stream_options.resolve();
    if (!settings) {
      std::fprintf(stderr, "vil-cdc: configuration: %s\n", settings.error().c_str());
      return ExitUsage;
    }
    return run_stream(*settings, signals);
  }
  if (snapshot->parsed()) return snapshot_options.run();
  if (status->parsed()) return status_options.run();
  if (drop_slot->parsed()) return drop_slot_options.run();
  auto format = vil::output::parse_format(demo_format);
  if (!format) {
    std::fprintf(stderr, "vil-cdc: --format: '%s' is not jsonl or debezium\n", demo_format.c_str());
    return ExitUsage;
  }
  demo_options.format = *format;
  return run_demo(demo_options, signals);
}
