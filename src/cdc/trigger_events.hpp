#pragma once
// The Trigger lane of one trigger: every TriggerEvent it emits (a Fire per row
// change, PauseAck, ResumeAck, StopAck), and the one place that draws sequence
// numbers, which the Data lane's changes share (docs/DESIGN.md §2.4).

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

#include "vil/cdc/cdc_fault.hpp"
#include "vil/core/trigger_event.hpp"
#include "vil/core/trigger_source.hpp"

namespace vil::cdc {

class TriggerEvents {
 public:
  // `sequence` outlives the run: numbers are never reset or reused.
  TriggerEvents(const core::EventCallback& callback, std::atomic<uint64_t>& sequence,
                std::string_view slot_name);

  // The next sequence number.
  [[nodiscard]] uint64_t next_sequence() {
    return sequence_.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  // The last number drawn (what a fault outside any change reports).
  [[nodiscard]] uint64_t last_sequence() const { return sequence_.load(); }

  // A row change's Fire event, when the owner gave a callback. What the
  // callback throws propagates: the caller fails the change.
  void fire(uint64_t sequence, uint64_t now_ns, uint32_t payload_bytes) const;
  // PauseAck, ResumeAck or StopAck; the DeliveryFailed fault when the
  // callback threw.
  [[nodiscard]] std::optional<CdcFault> acknowledge(core::TriggerOp op);

 private:
  const core::EventCallback& callback_;
  std::atomic<uint64_t>& sequence_;
  uint32_t kind_hash_;
  uint32_t slot_hash_;
};

}  // namespace vil::cdc
