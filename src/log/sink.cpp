#include "vil/log/sink.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <ostream>
#include <system_error>

namespace vil::log {

StreamSink::StreamSink(LogFormat format, std::FILE* out) : format_(format), file_(out) {}

StreamSink::StreamSink(LogFormat format, std::ostream& out) : format_(format), stream_(&out) {}

void StreamSink::write(const LogSlot& slot) {
  line_.clear();
  format_slot(line_, slot, format_);
  if (file_ != nullptr) {
    std::fwrite(line_.data(), 1, line_.size(), file_);
  } else {
    stream_->write(line_.data(), static_cast<std::streamsize>(line_.size()));
  }
}

void StreamSink::flush() {
  if (file_ != nullptr) {
    std::fflush(file_);
  } else {
    stream_->flush();
  }
}

std::expected<std::unique_ptr<JsonFileSink>, std::string> JsonFileSink::open(
    const std::filesystem::path& path) {
  std::FILE* file = std::fopen(path.c_str(), "ab");
  if (file == nullptr) {
    return std::unexpected(fmt::format("cannot open log file {}: {}", path.string(),
                                       std::generic_category().message(errno)));
  }
  return std::unique_ptr<JsonFileSink>(new JsonFileSink(file));
}

JsonFileSink::JsonFileSink(std::FILE* file) : file_(file) {}

JsonFileSink::~JsonFileSink() {
  std::fclose(file_);
}

void JsonFileSink::write(const LogSlot& slot) {
  line_.clear();
  format_slot(line_, slot, LogFormat::Json);
  std::fwrite(line_.data(), 1, line_.size(), file_);
}

void JsonFileSink::flush() {
  std::fflush(file_);
}

}  // namespace vil::log
