// LTX file names "<min:016x>-<max:016x>.ltx" and TXID text (docs/format.md §7).
#include "ltx/file_name.h"

#include <fmt/format.h>

namespace litekeep::ltx {
namespace {

constexpr size_t kTxIdDigits = 16;
constexpr std::string_view kExtension = ".ltx";

enum class HexCase { kLower, kEither };

int HexValue(char c, HexCase hex_case) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (hex_case == HexCase::kEither && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses 1..16 hex digits; nullopt on anything else.
std::optional<TxId> ParseHex(std::string_view text, HexCase hex_case) {
  if (text.empty() || text.size() > kTxIdDigits) return std::nullopt;
  TxId v = 0;
  for (char c : text) {
    int d = HexValue(c, hex_case);
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<TxId>(d);
  }
  return v;
}

// Splits "<16>-<16>.ltx" into its two TXIDs' text; false for other shapes.
bool SplitFileName(std::string_view name, std::string_view* min,
                   std::string_view* max) {
  if (name.size() != 2 * kTxIdDigits + 1 + kExtension.size() ||
      name[kTxIdDigits] != '-' || !name.ends_with(kExtension)) {
    return false;
  }
  *min = name.substr(0, kTxIdDigits);
  *max = name.substr(kTxIdDigits + 1, kTxIdDigits);
  return true;
}

}  // namespace

std::string FormatTxId(TxId txid) { return fmt::format("{:016x}", txid); }

base::Result<TxId> ParseTxId(std::string_view text) {
  std::optional<TxId> v = ParseHex(text, HexCase::kEither);
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
  std::string_view min_text, max_text;
  if (!SplitFileName(name, &min_text, &max_text)) return std::nullopt;
  std::optional<TxId> min = ParseHex(min_text, HexCase::kLower);
  std::optional<TxId> max = ParseHex(max_text, HexCase::kLower);
  if (!min || !max || *min == 0 || *min > *max) return std::nullopt;
  return TxRange{*min, *max};
}

base::Status CheckHeaderRange(TxRange header, TxRange named,
                              std::string_view what) {
  if (header.min_txid == named.min_txid && header.max_txid == named.max_txid) {
    return base::Status::Ok();
  }
  return base::CorruptError(fmt::format(
      "{}: header says TXID {}-{}, which does not match its name", what,
      FormatTxId(header.min_txid), FormatTxId(header.max_txid)));
}

bool HasFileNameShape(std::string_view name) {
  std::string_view min_text, max_text;
  return SplitFileName(name, &min_text, &max_text) &&
         ParseHex(min_text, HexCase::kEither) &&
         ParseHex(max_text, HexCase::kEither);
}

}  // namespace litekeep::ltx
