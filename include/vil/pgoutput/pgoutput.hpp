#pragma once
// The pgoutput decoder: bytes in, typed messages out, no I/O (docs/DESIGN.md §1).

#include "vil/pgoutput/decoder.hpp"
#include "vil/pgoutput/error.hpp"
#include "vil/pgoutput/frames.hpp"
#include "vil/pgoutput/lsn.hpp"
#include "vil/pgoutput/messages.hpp"
#include "vil/pgoutput/relation_cache.hpp"
#include "vil/pgoutput/timestamp.hpp"
#include "vil/pgoutput/tuple.hpp"
#include "vil/pgoutput/utf8.hpp"
