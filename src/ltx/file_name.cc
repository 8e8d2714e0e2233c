// LTX file names "<min:016x>-<max:016x>.ltx" and TXID text (docs/format.md §7).
#include "ltx/file_name.h"

#include <fmt/format.h>

namespace litekeep::ltx {
namespace {

constexpr size_t kTxIdDigits = 16;
constexpr std::string_view kExtension = ".ltx";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses 1..16 hex digits; nullopt on anything else.
std::optional<TxId> ParseHex(std::string_view text) {
  if (text.empty() || text.size() > kTxIdDigits) return std::nullopt;
  TxId v = 0;
  for (char c : text) {
    int d = HexValue(c);
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<TxId>(d);
  }
  return v;
}

}  // namespace

std::string FormatTxId(TxId txid) { return fmt::format("{:016x}", txid); }

base::Result<TxId> ParseTxId(std::string_view text) {
  std::optional<TxId> v = ParseHex(text);
  if (!v) {
    return base::InvalidArgumentError(
        fmt::format("invalid TXID \"{}\": expected 1 to 16 hex digits", text));
  }
  return *v;
}

std::string FormatFileName(TxId min_txid, TxId max_txid) {
  return fmt::format("{:016x}-{:016x}.ltx", min_txid, max_txid);
}

std::optional<TxRange> ParseFileName(std::string_view name) {
  if (name.size() != 2 * kTxIdDigits + 1 + kExtension.size() ||
      name[kTxIdDigits] != '-' || !name.ends_with(kExtension)) {
    return std::nullopt;
  }
  std::optional<TxId> min = ParseHex(name.substr(0, kTxIdDigits));
  std::optional<TxId> max = ParseHex(name.substr(kTxIdDigits + 1, kTxIdDigits));
  if (!min || !max || *min == 0 || *min > *max) return std::nullopt;
  return TxRange{*min, *max};
}

}  // namespace litekeep::ltx
