#pragma once
// --log stderr: mq_log records as lines through StderrLines, so that they
// never land on top of the progress line.

#include <string>

#include "vil/log/format.hpp"
#include "vil/log/sink.hpp"

namespace vil::cli {

class StderrLogSink final : public log::Sink {
 public:
  explicit StderrLogSink(log::LogFormat format) : format_(format) {}
  void write(const log::LogSlot& slot) override;
  // The drain calls this after each batch: one print per batch.
  void flush() override;

 private:
  log::LogFormat format_;
  std::string lines_;
};

}  // namespace vil::cli
