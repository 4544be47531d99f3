// print_changes: the smallest useful embedding of vil_trigger_cdc. It streams
// a slot's changes and prints one line per change until Ctrl-C.
//
//   print_changes "host=localhost dbname=shop user=repl" my_slot my_pub

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <thread>

#include "vil/cdc/cdc_trigger.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s CONNINFO SLOT PUBLICATION\n", argv[0]);
    return 2;
  }
  vil::cdc::CdcConfig config;
  config.conn_string = argv[1];
  config.slot_name = argv[2];
  config.publication = argv[3];
  config.create_slot = true;  // first run: make the slot

  // Ctrl-C stops the trigger from a thread of its own (stop() takes a lock,
  // so it is not for a signal handler). Block the signals before any thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  vil::cdc::CdcTrigger trigger(config);
  std::thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    (void)trigger.stop();
  }).detach();

  vil::cdc::FunctionSink sink([](const vil::cdc::Change& change) {
    std::string line(to_string(change.kind));
    if (change.relation) line += " " + change.relation->qualified_name;
    // The new row, typed: each column by name, converted when asked for.
    const vil::cdc::RowView row = change.new_row();
    for (std::size_t i = 0; i < row.size(); ++i) {
      const auto value = row.value(i);
      line += " " + std::string(row.name(i)) + "=";
      if (!value) {
        line += "?";  // an unchanged TOASTed value the server did not send
      } else if (std::holds_alternative<vil::values::Null>(*value)) {
        line += "NULL";
      } else if (const auto* number = std::get_if<int64_t>(&*value)) {
        line += std::to_string(*number);
      } else {
        line += std::string(row.raw(i).text());  // PostgreSQL's text form
      }
    }
    std::printf("%s (commit %s, #%u)\n", line.c_str(),
                vil::pgoutput::to_string(change.commit_lsn).c_str(), change.ordinal);
  });
  trigger.set_sink(&sink);

  auto done = trigger.run();
  if (!done) {
    std::fprintf(stderr, "print_changes: %s\n", done.error().message().c_str());
    return 1;
  }
  return 0;
}
