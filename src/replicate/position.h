// The replicator's durable local state: which TXID the replica holds and the
// WAL position (generation salts, checkpoint sequence, byte offset, running
// checksum) it corresponds to. Stored as JSON in <meta>/position.json; safe
// to delete (the next sync then writes a snapshot).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "base/types.h"
#include "sqlite/wal.h"

namespace litekeep::replicate {

struct Position {
  TxId txid = 0;              // last TXID durably in the replica
  uint32_t page_size = 0;
  uint32_t salt1 = 0;         // WAL generation (0,0 when the WAL was empty)
  uint32_t salt2 = 0;
  uint32_t checkpoint_seq = 0;
  int64_t offset = 0;         // WAL byte offset replicated up to (0: none)
  sqlite::WalChecksum checksum;  // running WAL checksum at offset

  bool SameGeneration(const sqlite::WalHeader& h) const {
    return offset != 0 && salt1 == h.salt1 && salt2 == h.salt2;
  }
  bool operator==(const Position&) const = default;
};

// Reads <path>; nullopt when it does not exist or cannot be parsed (a
// damaged state file is treated like a missing one: snapshot next).
std::optional<Position> LoadPosition(const std::string& path);
// Writes <path> atomically and durably.
Status SavePosition(const std::string& path, const Position& pos);

}  // namespace litekeep::replicate
