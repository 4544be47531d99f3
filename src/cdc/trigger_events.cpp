#include "trigger_events.hpp"

#include <fmt/format.h>

#include "delivery_fault.hpp"
#include "vil/core/unix_time.hpp"
#include "vil/log/dictionary.hpp"

namespace vil::cdc {

TriggerEvents::TriggerEvents(const core::EventCallback& callback, std::atomic<uint64_t>& sequence,
                             std::string_view slot_name)
    : callback_(callback),
      sequence_(sequence),
      kind_hash_(log::register_str("cdc")),
      slot_hash_(log::register_str(slot_name)) {}

void TriggerEvents::fire(uint64_t sequence, uint64_t now_ns, uint32_t payload_bytes) const {
  if (!callback_) return;
  core::TriggerEvent event{};
  event.kind_hash = kind_hash_;
  event.source_hash = slot_hash_;
  event.sequence = sequence;
  event.timestamp_ns = now_ns;
  event.payload_bytes = payload_bytes;
  event.op = core::TriggerOp::Fire;
  callback_(event);
}

std::optional<CdcFault> TriggerEvents::acknowledge(core::TriggerOp op) {
  if (!callback_) return std::nullopt;
  core::TriggerEvent event{};
  event.kind_hash = kind_hash_;
  event.source_hash = slot_hash_;
  event.sequence = next_sequence();
  event.timestamp_ns = core::unix_now_ns();
  event.op = op;
  try {
    callback_(event);
    return std::nullopt;
  } catch (...) {
    return caught_as_delivery_fault(
        event.sequence, fmt::format("the event callback failed on {}", core::to_string(op)));
  }
}

}  // namespace vil::cdc
