#pragma once
// The delivery thread's work: decode each queued frame, follow transactions,
// hand every change to the owner (Trigger lane event, Data lane change, one
// mq_log record), count, and make delivered transactions confirmable after
// the sink flushed them.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "replication/frame_queue.hpp"
#include "replication/stream_shared.hpp"
#include "vil/cdc/cdc_fault.hpp"
#include "vil/cdc/change.hpp"
#include "vil/core/trigger_event.hpp"
#include "vil/core/trigger_source.hpp"
#include "vil/pgoutput/decoder.hpp"

namespace vil::cdc {

// Counters that outlive one run of the trigger.
struct DeliveryCounters {
  std::atomic<uint64_t>& sequence;
  std::atomic<uint64_t>& rows_changed;
  std::atomic<uint64_t>& last_event_ns;
  std::atomic<uint64_t>& events_fired;
  std::atomic<uint64_t>& trigger_errors;
  std::atomic<uint64_t>& transactions;
};

// Pause and stop as the delivery thread waits on them.
struct DeliveryControl {
  std::mutex mutex;
  std::condition_variable changed;
};

class ChangeDelivery {
 public:
  ChangeDelivery(replication::StreamShared& shared, DeliveryControl& control, ChangeSink& sink,
                 const core::EventCallback& events, DeliveryCounters counters);

  // Runs until the I/O thread finished, a stop, the end LSN, or a delivery
  // fault; flushes and publishes what was delivered before returning.
  std::optional<CdcFault> run();

  // True when stop came from the control lane (not the end LSN or a fault).
  bool stopped_by_request() const { return stopped_by_request_; }

 private:
  enum class Step { Next, End, Fault };

  Step deliver(const replication::QueueItem& item);
  Step deliver_frame(std::span<const std::byte> frame);
  Step deliver_message(const pgoutput::DecodedMessage& decoded, pgoutput::Lsn lsn,
                       size_t payload_bytes);
  Step deliver_change(Change& change);
  void emit_control_event(core::TriggerOp op);
  void flush_and_publish();
  void wait_while_paused();
  Step fail(CdcFault fault);

  replication::StreamShared& shared_;
  DeliveryControl& control_;
  ChangeSink& sink_;
  const core::EventCallback& events_;
  DeliveryCounters counters_;

  pgoutput::Decoder decoder_;
  uint32_t kind_hash_;
  uint32_t slot_hash_;
  uint32_t publication_hash_;
  std::unordered_map<pgoutput::Oid, uint32_t> table_hashes_;
  std::vector<const pgoutput::RelationSchema*> truncated_;

  // The transaction being delivered.
  bool in_transaction_ = false;
  uint32_t xid_ = 0;
  pgoutput::Lsn commit_lsn_;
  int64_t commit_time_ns_ = 0;
  uint32_t ordinal_ = 0;

  uint64_t frames_done_ = 0;
  uint64_t delivered_lsn_ = 0;  // end of the last whole transaction delivered
  uint64_t published_lsn_ = 0;
  uint64_t published_frames_ = 0;
  size_t bytes_since_flush_ = 0;
  std::optional<CdcFault> fault_;
  bool stopped_by_request_ = false;
};

}  // namespace vil::cdc
