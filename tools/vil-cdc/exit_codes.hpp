#pragma once
// vil-cdc's exit codes (docs/DESIGN.md §5), and which fault leads to which.

#include "vil/cdc/cdc_fault.hpp"

namespace vil::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,     // anything not listed below (the demo's cluster would not start...)
  kExitUsage = 2,       // usage or configuration
  kExitConnection = 3,  // connection or authentication
  kExitSlot = 4,        // slot or publication
  kExitStream = 5,      // the stream itself
};

inline int exit_code_for(const cdc::CdcFault& fault) {
  switch (fault.code()) {
    case 1:  // ConnectionFailed
      return kExitConnection;
    case 2:  // ReplicationStartFailed
    case 4:  // SlotNotFound
    case 5:  // PublicationNotFound
      return kExitSlot;
    case 9:  // ConfigInvalid
      return kExitUsage;
    default:
      return kExitStream;
  }
}

}  // namespace vil::cli
