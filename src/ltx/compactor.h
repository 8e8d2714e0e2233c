// LTX compactor: merges an ordered chain of LTX files into one file that,
// applied on the database state before the first input, gives exactly the
// state after the last input (docs/architecture.md, "Compaction"). Streams a
// k-way merge by page number, so memory is one page, one read buffer and one
// bounded frame spool (ltx/frame_spool.h) per input and file written,
// whatever the file sizes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/io.h"
#include "base/status.h"
#include "ltx/format.h"

namespace litekeep::ltx {

// One input: a whole LTX file read from its first byte. `name` (object or
// file name) appears in errors.
struct CompactInput {
  base::Reader* reader = nullptr;
  std::string name;
};

struct CompactOptions {
  // Header timestamp of the output; default: the newest input timestamp
  // (so a compacted file holds no transaction shipped after its created
  // time, see docs/architecture.md).
  std::optional<int64_t> timestamp_ms;
  // How the output stores its pages.
  PageEncoding encoding = PageEncoding::kBlock;
  // The output's header node_id: the writer's lease generation, 0 without
  // a lease (docs/architecture.md, "Fencing"). Never an input's: a merge
  // is written by whoever merges.
  uint64_t node_id = 0;
};

// What the merge produced.
struct CompactResult {
  Header header;       // the output header
  uint64_t pages = 0;  // pages written
  uint64_t bytes = 0;  // output size
};

// Merges inputs (at least one) into out. Inputs must be in TXID order with
// the same page size and chain without a gap: each input starts at or
// before the previous input's max TXID + 1 and ends after it (overlap is
// allowed: a later file holds the newest image of every page it has).
// The output has min TXID = the first input's, max TXID and commit = the
// last input's, the NoChecksum flag and no WAL fields; each page is the
// newest image among the inputs, pages beyond a later input's commit are
// dropped or, when the database grew again, written as zeros (exactly what
// applying the inputs one after the other gives). If the first input is a
// snapshot (min TXID 1) the output is a snapshot: every page 1..commit, the
// lock page skipped. Every input is fully verified (index, trailer, file
// checksum). Errors name the input at fault.
Result<CompactResult> Compact(std::span<const CompactInput> inputs,
                              base::Writer* out,
                              const CompactOptions& options = {});

}  // namespace litekeep::ltx
