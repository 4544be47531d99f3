#pragma once
// vil-cdc's exit codes (docs/DESIGN.md §5), and which fault leads to which.

#include "vil/cdc/cdc_fault.hpp"

namespace vil::cli {

enum ExitCode : int {
  ExitOk = 0,
  ExitFailure = 1,     // anything not listed below (the demo's cluster would not start...)
  ExitUsage = 2,       // usage or configuration
  ExitConnection = 3,  // connection or authentication
  ExitSlot = 4,        // slot or publication
  ExitStream = 5,      // the stream itself
};

inline int exit_code_for(const cdc::CdcFault& fault) {
  switch (fault.code()) {
    case 1:  // ConnectionFailed
      return ExitConnection;
    case 2:  // ReplicationStartFailed
    case 4:  // SlotNotFound
    case 5:  // PublicationNotFound
      return ExitSlot;
    case 9:  // ConfigInvalid
      return ExitUsage;
    default:
      return ExitStream;
  }
}

}  // namespace vil::cli
