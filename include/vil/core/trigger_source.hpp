#pragma once
// TriggerSource: the interface every VIL trigger implements, used through a
// pointer (each trigger layer has a create_trigger(config) returning one).

#include <expected>
#include <functional>
#include <string_view>

#include "vil/core/trigger_event.hpp"
#include "vil/core/trigger_fault.hpp"

namespace vil::core {

// Called for every event on the thread that runs start() (the caller's, not
// one of the trigger's own); it should return quickly: delivery waits for it.
using EventCallback = std::function<void(const TriggerEvent&)>;

class TriggerSource {
 public:
  virtual ~TriggerSource() = default;

  // "cdc", "cron", ...: the lower-case trigger kind.
  virtual std::string_view kind() const = 0;

  // Runs until stop() or a fatal fault, delivering events through callback.
  // Returns success after a stop, the fault otherwise.
  virtual std::expected<void, TriggerFault> start(EventCallback callback) = 0;

  // Control lane: callable from any thread while start() runs; never blocked by
  // data backpressure.
  virtual std::expected<void, TriggerFault> pause() = 0;
  virtual std::expected<void, TriggerFault> resume() = 0;
  virtual std::expected<void, TriggerFault> stop() = 0;

 protected:
  TriggerSource() = default;
  TriggerSource(const TriggerSource&) = default;
  TriggerSource& operator=(const TriggerSource&) = default;
};

}  // namespace vil::core
