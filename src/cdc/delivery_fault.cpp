#include "delivery_fault.hpp"

#include <exception>
#include <string>

#include <fmt/format.h>

namespace vil::cdc {

CdcFault caught_as_delivery_fault(uint64_t sequence, std::string_view failed) {
  try {
    throw;
  } catch (const std::exception& e) {
    return CdcFault(DeliveryFailed{sequence}, fmt::format("{}: {}", failed, e.what()));
  } catch (...) {
    return CdcFault(DeliveryFailed{sequence}, std::string(failed));
  }
}

}  // namespace vil::cdc
