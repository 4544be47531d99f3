#pragma once
// `vil-cdc stream`: one trigger, its changes written as lines, signals and
// the progress line around it. Returns the process's exit code.

#include "signal_watch.hpp"
#include "stream_settings.hpp"

namespace vil::cli {

int run_stream(const StreamSettings& settings, SignalWatch& signals);

}  // namespace vil::cli
