#pragma once
// vil_trigger_core: the contracts every VIL trigger shares.

#include "vil/core/trigger_config.hpp"
#include "vil/core/trigger_event.hpp"
#include "vil/core/trigger_fault.hpp"
#include "vil/core/trigger_kind.hpp"
#include "vil/core/trigger_source.hpp"
#include "vil/core/trigger_state.hpp"
