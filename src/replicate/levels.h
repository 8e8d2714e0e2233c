// Which level an LTX file belongs to when the replicator writes it: a full
// image (min TXID 1) is the snapshot level's, every change file is L0's
// (docs/architecture.md, "Levels: one image, changes").
#pragma once

#include "ltx/format.h"

namespace litekeep::replicate {

// The level the replicator stores a file with this header in: 9 for a
// snapshot (min TXID 1), else 0.
inline int StoredLevel(const ltx::Header& h) {
  return h.min_txid == 1 ? ltx::kSnapshotLevel : 0;
}

}  // namespace litekeep::replicate
