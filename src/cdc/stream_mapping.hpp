#pragma once
// Between the trigger's settings and faults and the transport's own: the one
// place where a CdcConfig becomes StreamSettings and a StreamError becomes the
// CdcFault an owner sees (with the hashes of §2.3).

#include "vil/cdc/cdc_config.hpp"
#include "vil/cdc/cdc_fault.hpp"
#include "vil/replication/stream_error.hpp"
#include "vil/replication/stream_settings.hpp"

namespace vil::cdc {

[[nodiscard]] replication::StreamSettings stream_settings(const CdcConfig& config);

[[nodiscard]] CdcFault to_cdc_fault(const replication::StreamError& error, const CdcConfig& config);

}  // namespace vil::cdc
