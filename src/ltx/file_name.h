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
// Parses a canonical file name (exactly 16+1+16 lower/upper hex + ".ltx");
// nullopt for any other name and for a range that is not 1 <= min <= max.
std::optional<TxRange> ParseFileName(std::string_view name);

}  // namespace litekeep::ltx
