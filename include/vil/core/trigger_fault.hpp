#pragma once
// TriggerFault: why a trigger source failed (vil_trigger_core).
//
// The variant and its fields carry hashes and numbers, as the Rust crates do, so
// that the hot path never formats text. A fault also carries a sentence for
// people: callers pass the names and the cause in words, because a person is
// never told just a hash.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace vil::core {

class TriggerFault {
 public:
  // Alternatives in error-code order: code = index + 1 (the contract's numbers).
  struct SourceUnavailable {
    std::uint32_t kind_hash = 0;
    std::uint32_t reason_code = 0;
    friend bool operator==(const SourceUnavailable&, const SourceUnavailable&) = default;
  };
  struct ConfigInvalid {
    std::uint32_t field_hash = 0;
    friend bool operator==(const ConfigInvalid&, const ConfigInvalid&) = default;
  };
  struct RateLimited {
    std::uint32_t kind_hash = 0;
    std::uint32_t events_per_sec = 0;
    friend bool operator==(const RateLimited&, const RateLimited&) = default;
  };
  struct IoError {
    std::uint32_t kind_hash = 0;
    std::int32_t os_code = 0;  // errno
    friend bool operator==(const IoError&, const IoError&) = default;
  };
  struct AuthFailed {
    std::uint32_t kind_hash = 0;
    friend bool operator==(const AuthFailed&, const AuthFailed&) = default;
  };
  using Detail = std::variant<SourceUnavailable, ConfigInvalid, RateLimited, IoError, AuthFailed>;

  // An empty message is replaced by a generic sentence for the kind, so
  // message() is never empty.
  TriggerFault(Detail detail, std::string message = {});

  const Detail& detail() const noexcept { return detail_; }
  template <class Alternative>
  const Alternative* get_if() const noexcept {
    return std::get_if<Alternative>(&detail_);
  }

  // 1 SourceUnavailable, 2 ConfigInvalid, 3 RateLimited, 4 IoError, 5 AuthFailed.
  std::uint32_t as_error_code() const noexcept {
    return static_cast<std::uint32_t>(detail_.index()) + 1;
  }
  // The alternative's name, e.g. "IoError".
  std::string_view kind() const noexcept;
  const std::string& message() const noexcept { return message_; }

  // "IoError(code=4, kind_hash=0x76f33000, os_code=104): connection reset by peer"
  // Hashes are 8 hex digits; the other fields are decimal.
  std::string to_string() const;

  friend bool operator==(const TriggerFault&, const TriggerFault&) = default;

 private:
  Detail detail_;
  std::string message_;
};

}  // namespace vil::core
