#include "vil/cdc/cdc_fault.hpp"

#include <array>

#include <fmt/format.h>

#include "vil/replication/stream_error.hpp"

namespace vil::cdc {

namespace {
constexpr std::array<std::string_view, std::variant_size_v<CdcFault::Detail>> kKindNames = {
    "ConnectionFailed",    "ReplicationStartFailed", "UnknownMessage",  "SlotNotFound",
    "PublicationNotFound", "StreamClosed",           "KeepaliveFailed", "MalformedMessage",
    "ConfigInvalid",       "DeliveryFailed",         "StreamFailed",    "SnapshotFailed",
};
}  // namespace

std::string_view CdcFault::kind() const {
  return kKindNames[detail_.index()];
}

std::string CdcFault::to_string() const {
  return fmt::format("{}(code={})", kind(), code());
}

bool is_retryable_sqlstate(std::string_view sqlstate) {
  return replication::is_retryable_sqlstate(sqlstate);
}

bool CdcFault::is_retryable() const {
  if (const auto* start = get<ReplicationStartFailed>()) {
    return is_retryable_sqlstate(unpack_sqlstate(start->pg_error_code));
  }
  if (const auto* c = get<ConnectionFailed>()) {
    auto reason = static_cast<ConnectionFailure>(c->reason_code);
    return reason == ConnectionFailure::Unreachable ||
           reason == ConnectionFailure::ServerShutdown || reason == ConnectionFailure::Other;
  }
  return std::holds_alternative<StreamClosed>(detail_) ||
         std::holds_alternative<KeepaliveFailed>(detail_);
}

uint32_t pack_sqlstate(std::string_view sqlstate) {
  uint32_t code = 0;
  for (size_t i = 0; i < sqlstate.size() && i < 5; ++i) {
    code |= (static_cast<uint32_t>(sqlstate[i] - '0') & 0x3F) << (6 * i);
  }
  return code;
}

std::string unpack_sqlstate(uint32_t code) {
  std::string s(5, '0');
  for (size_t i = 0; i < 5; ++i) s[i] = static_cast<char>(((code >> (6 * i)) & 0x3F) + '0');
  return s;
}

}  // namespace vil::cdc
