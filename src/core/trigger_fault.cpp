#include "vil/core/trigger_fault.hpp"

#include <fmt/format.h>

#include <system_error>
#include <utility>

namespace vil::core {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

std::string generic_message(const TriggerFault::Detail& detail) {
  return std::visit(
      Overloaded{
          [](const TriggerFault::SourceUnavailable& d) {
            return fmt::format("trigger source unavailable (reason code {})", d.reason_code);
          },
          [](const TriggerFault::ConfigInvalid&) {
            return std::string("invalid trigger configuration");
          },
          [](const TriggerFault::RateLimited& d) {
            return fmt::format("trigger rate limited to {} events per second", d.events_per_sec);
          },
          [](const TriggerFault::IoError& d) {
            return fmt::format("I/O error: {}", std::system_category().message(d.os_code));
          },
          [](const TriggerFault::AuthFailed&) {
            return std::string("trigger source rejected the credentials");
          },
      },
      detail);
}

}  // namespace

TriggerFault::TriggerFault(Detail detail, std::string message)
    : detail_(std::move(detail)), message_(std::move(message)) {
  if (message_.empty()) message_ = generic_message(detail_);
}

std::string_view TriggerFault::kind() const noexcept {
  static constexpr std::string_view kNames[] = {"SourceUnavailable", "ConfigInvalid", "RateLimited",
                                                "IoError", "AuthFailed"};
  return kNames[detail_.index()];
}

std::string TriggerFault::to_string() const {
  const std::string fields = std::visit(
      Overloaded{
          [](const SourceUnavailable& d) {
            return fmt::format("kind_hash=0x{:08x}, reason_code={}", d.kind_hash, d.reason_code);
          },
          [](const ConfigInvalid& d) { return fmt::format("field_hash=0x{:08x}", d.field_hash); },
          [](const RateLimited& d) {
            return fmt::format("kind_hash=0x{:08x}, events_per_sec={}", d.kind_hash,
                               d.events_per_sec);
          },
          [](const IoError& d) {
            return fmt::format("kind_hash=0x{:08x}, os_code={}", d.kind_hash, d.os_code);
          },
          [](const AuthFailed& d) { return fmt::format("kind_hash=0x{:08x}", d.kind_hash); },
      },
      detail_);
  return fmt::format("{}(code={}, {}): {}", kind(), as_error_code(), fields, message_);
}

}  // namespace vil::core
