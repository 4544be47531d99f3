#include "stderr_log_sink.hpp"

#include "stderr_lines.hpp"

namespace vil::cli {

void StderrLogSink::write(const log::LogSlot& slot) {
  log::format_slot(lines_, slot, format_);
}

void StderrLogSink::flush() {
  if (lines_.empty()) return;
  stderr_lines().print(lines_);
  lines_.clear();
}

}  // namespace vil::cli
