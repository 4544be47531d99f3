#pragma once
// `vil-cdc demo`: a throwaway PostgreSQL, a small shop schema with types
// worth seeing, a writer of inserts, updates and deletes, and the changes
// streamed to stdout as JSON lines until --max-events or Ctrl-C.

#include <cstdint>

#include "signal_watch.hpp"
#include "vil/output/change_encoder.hpp"

namespace vil::cli {

struct DemoOptions {
  uint64_t max_events = 200;
  double rate = 20;  // writer transactions per second
  output::Format format = output::Format::JsonLines;
};

int run_demo(const DemoOptions& options, SignalWatch& signals);

}  // namespace vil::cli
