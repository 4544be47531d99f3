#pragma once
// What an owner's code threw, as the DeliveryFailed fault that ends start():
// never std::terminate (docs/DESIGN.md §7). The delivery thread
// (change_delivery.cpp) and CdcTrigger::run() (the StopAck event) both call
// the owner, and both turn what it throws into a fault here.

#include <cstdint>
#include <string_view>

#include "vil/cdc/cdc_fault.hpp"

namespace vil::cdc {

// Call only inside a catch block: the exception being handled becomes
// DeliveryFailed{sequence}. The message is `failed` ("the commit callback
// failed on transaction 7"), then ": " and what() when the exception is a
// std::exception.
[[nodiscard]] CdcFault caught_as_delivery_fault(uint64_t sequence, std::string_view failed);

}  // namespace vil::cdc
