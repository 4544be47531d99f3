#pragma once
// Everything vil-cdc writes to stderr while it streams goes through here:
// notices, mq_log records (--log stderr), the closing messages, and the
// progress line. The progress line has no newline and is redrawn in place;
// any other line first erases it ("\r\033[K"), then the progress line is
// drawn again under it, so that no line is written over the progress text.

#include <mutex>
#include <string>
#include <string_view>

namespace vil::cli {

class StderrLines {
 public:
  // Whole lines, each ending in '\n'.
  void print(std::string_view lines);
  // Draws (or redraws) the progress line.
  void set_status(std::string text);
  // Ends the progress line with a newline, so that it stays on the screen;
  // no status is drawn after this until the next set_status().
  void end_status();

 private:
  void write_all(std::string_view bytes);

  std::mutex mutex_;
  std::string status_;
  bool drawn_ = false;
};

// The process's one stderr.
StderrLines& stderr_lines();

}  // namespace vil::cli
