// Domain scalar types shared by every module: TXIDs and page numbers.
#pragma once

#include <chrono>
#include <cstdint>

namespace litekeep {

// A transaction ID: the position of an LTX file in a replica's history.
using TxId = uint64_t;
// A SQLite page number (1-based).
using Pgno = uint32_t;

using Clock = std::chrono::system_clock;
using TimePoint = std::chrono::system_clock::time_point;

}  // namespace litekeep
