#pragma once
// Sinks: where the drain writes records. Only the drain calls them (one call at
// a time), never the thread that logged.

#include <cstdio>
#include <expected>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>

#include "vil/log/format.hpp"
#include "vil/log/log_slot.hpp"

namespace vil::log {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const LogSlot& slot) = 0;
  // Called after each batch the drain writes.
  virtual void flush() {}

 protected:
  Sink() = default;
  Sink(const Sink&) = default;
  Sink& operator=(const Sink&) = default;
};

// Text lines in one of the formats of format.hpp on a FILE* (stdout unless
// told otherwise) or a std::ostream. The stream is borrowed, not closed.
class StreamSink final : public Sink {
 public:
  explicit StreamSink(LogFormat format = LogFormat::Pretty, std::FILE* out = stdout);
  StreamSink(LogFormat format, std::ostream& out);

  void write(const LogSlot& slot) override;
  void flush() override;

 private:
  LogFormat format_;
  std::FILE* file_ = nullptr;
  std::ostream* stream_ = nullptr;
  std::string line_;  // reused, so steady-state writes do not allocate
};

// LogFormat::Json lines appended to a file the sink owns.
class JsonFileSink final : public Sink {
 public:
  // The error names the path and the operating system's reason.
  static std::expected<std::unique_ptr<JsonFileSink>, std::string> open(
      const std::filesystem::path& path);
  ~JsonFileSink() override;
  JsonFileSink(const JsonFileSink&) = delete;
  JsonFileSink& operator=(const JsonFileSink&) = delete;

  void write(const LogSlot& slot) override;
  void flush() override;

 private:
  explicit JsonFileSink(std::FILE* file);
  std::FILE* file_;
  std::string line_;
};

}  // namespace vil::log
