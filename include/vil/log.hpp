#pragma once
// vil_log: the records triggers write, the string dictionary, and the drains.

#include "vil/log/dictionary.hpp"
#include "vil/log/format.hpp"
#include "vil/log/fx_hash.hpp"
#include "vil/log/level.hpp"
#include "vil/log/log_slot.hpp"
#include "vil/log/logger.hpp"
#include "vil/log/mq_payload.hpp"
#include "vil/log/sink.hpp"
