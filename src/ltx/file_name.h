// LTX file names: "<min:016x>-<max:016x>.ltx" and TXID text forms. The only
// place that builds or parses those names (storage/layout.* builds paths).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/types.h"

namespace litekeep::ltx {

// "%016x" of a TXID.
std::string FormatTxId(TxId txid);
// Parses 1..16 hex digits (the CLI's -txid); errors name the bad text.
base::Result<TxId> ParseTxId(std::string_view text);
// "<min:016x>-<max:016x>.ltx".
std::string FormatFileName(TxId min_txid, TxId max_txid);

struct TxRange {
  TxId min_txid;
  TxId max_txid;
};
// Parses a canonical file name: exactly what FormatFileName writes (16 + 1 +
// 16 lower-case hex digits + ".ltx") for a range with 1 <= min <= max;
// nullopt for every other name (upper-case hex included). Every listing and
// the decoder use this one rule (docs/format.md §7).
std::optional<TxRange> ParseFileName(std::string_view name);
// Ok when a file's header carries the TXID range its name promises; else
// kCorrupt naming `what` and both ranges.
base::Status CheckHeaderRange(TxRange header, TxRange named,
                              std::string_view what);
// True when name looks like an LTX file name, "<16 hex>-<16 hex>.ltx" in
// either case and whatever the TXIDs, canonical or not: a name that claims a
// TXID range.
bool HasFileNameShape(std::string_view name);

}  // namespace litekeep::ltx
