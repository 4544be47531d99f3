#pragma once
// LogLevel and LogCategory: the two byte-sized codes in every VilLogHeader.

#include <cstdint>
#include <string_view>

namespace vil::log {

enum class LogLevel : std::uint8_t {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Fatal = 5,
};

enum class LogCategory : std::uint8_t {
  Access = 0,
  App = 1,
  System = 2,
  Security = 3,
  Ai = 4,
  Db = 5,
  Mq = 6,
};

// Lower-case names ("info", "mq"); an empty view for a value outside the enum.
constexpr std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::Trace:
      return "trace";
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Error:
      return "error";
    case LogLevel::Fatal:
      return "fatal";
  }
  return {};
}

constexpr std::string_view to_string(LogCategory category) noexcept {
  switch (category) {
    case LogCategory::Access:
      return "access";
    case LogCategory::App:
      return "app";
    case LogCategory::System:
      return "system";
    case LogCategory::Security:
      return "security";
    case LogCategory::Ai:
      return "ai";
    case LogCategory::Db:
      return "db";
    case LogCategory::Mq:
      return "mq";
  }
  return {};
}

static_assert(sizeof(LogLevel) == 1 && sizeof(LogCategory) == 1);

}  // namespace vil::log
