#include "stream_command.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "exit_codes.hpp"
#include "output_writer.hpp"
#include "progress_line.hpp"
#include "signal_watch.hpp"
#include "vil/cdc/cdc_trigger.hpp"
#include "vil/log/logger.hpp"
#include "vil/log/sink.hpp"

namespace vil::cli {

namespace {

// The database the connection string names, for Debezium's source.db.
std::string database_of(const std::string& conn_string) {
  std::string db;
  PQconninfoOption* options = PQconninfoParse(conn_string.c_str(), nullptr);
  if (options == nullptr) return db;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "dbname") == 0 && o->val != nullptr) db = o->val;
  }
  PQconninfoFree(options);
  return db;
}

// Routes mq_log records as --log asks; closes the file at the end.
class LogDrain {
 public:
  std::expected<void, std::string> open(const StreamSettings& s) {
    if (s.log == "off") return {};
    if (s.log == "stderr") {
      log::logger().add_sink(
          std::make_unique<log::StreamSink>(s.log_format.value_or(log::LogFormat::Pretty), stderr));
    } else {
      file_ = std::fopen(s.log.c_str(), "a");
      if (file_ == nullptr) {
        return std::unexpected(
            fmt::format("cannot open log file {}: {}", s.log, std::strerror(errno)));
      }
      log::logger().add_sink(
          std::make_unique<log::StreamSink>(s.log_format.value_or(log::LogFormat::Json), file_));
    }
    log::start_drain();
    active_ = true;
    return {};
  }
  ~LogDrain() {
    if (active_) {
      log::shutdown();
      log::logger().clear_sinks();
    }
    if (file_) std::fclose(file_);
  }

 private:
  std::FILE* file_ = nullptr;
  bool active_ = false;
};

// A fault's message on one line: libpq's own messages can span several
// ("...Connection refused\n\tIs the server running...").
std::string one_line(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') {
      out += text[i];
      continue;
    }
    while (i + 1 < text.size() && (text[i + 1] == '\t' || text[i + 1] == ' ' ||
                                   text[i + 1] == '\n' || text[i + 1] == '\r')) {
      ++i;
    }
    if (i + 1 < text.size()) out += ' ';
  }
  return out;
}

}  // namespace

int run_stream(const StreamSettings& settings, SignalWatch& signals) {
  int fd = STDOUT_FILENO;
  std::string name = "stdout";
  if (settings.output != "-") {
    fd = ::open(settings.output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      std::fprintf(stderr, "vil-cdc: cannot open output %s: %s\n", settings.output.c_str(),
                   std::strerror(errno));
      return kExitUsage;
    }
    name = settings.output;
  }
  struct CloseFd {
    int fd;
    ~CloseFd() {
      if (fd != STDOUT_FILENO) ::close(fd);
    }
  } close_fd{fd};

  LogDrain log_drain;
  if (auto r = log_drain.open(settings); !r) {
    std::fprintf(stderr, "vil-cdc: %s\n", r.error().c_str());
    return kExitUsage;
  }

  cdc::CdcTrigger trigger(settings.cdc);
  signals.set_action([&] { trigger.stop(); });
  output::ChangeEncoderOptions encoder_options;
  encoder_options.format = settings.format;
  encoder_options.database = database_of(settings.cdc.conn_string);
  output::ChangeEncoder encoder(encoder_options);
  OutputWriter writer(fd, name, settings.fsync, std::move(encoder), settings.max_events,
                      [&] { trigger.stop(); });
  trigger.set_sink(&writer);
  if (!settings.quiet) {
    trigger.on_notice(
        [](const std::string& text) { std::fprintf(stderr, "vil-cdc: %s\n", text.c_str()); });
  }
  if (settings.end_lsn) trigger.stop_at(*settings.end_lsn);

  std::expected<void, cdc::CdcFault> result;
  {
    ProgressLine progress(!settings.quiet && isatty(STDERR_FILENO), trigger,
                          [&] { return writer.events(); });
    result = trigger.run();
  }
  signals.set_action({});
  if (!result) {
    if (writer.reader_gone()) return kExitOk;
    std::fprintf(stderr, "vil-cdc: %s\n", one_line(result.error().message()).c_str());
    return exit_code_for(result.error());
  }
  return kExitOk;
}

}  // namespace vil::cli
