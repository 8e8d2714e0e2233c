// LTX file names and TXID text forms.
#include "ltx/file_name.h"

#include <cctype>
#include <cinttypes>
#include <cstdio>

namespace litekeep::ltx {
namespace {

bool ParseHex16(std::string_view s, TxId* out) {
  if (s.size() != 16) return false;
  TxId v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    v = (v << 4) | static_cast<TxId>(d);
  }
  *out = v;
  return true;
}

}  // namespace

std::string FormatTxId(TxId txid) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, txid);
  return buf;
}

base::Result<TxId> ParseTxId(std::string_view text) {
  if (text.empty() || text.size() > 16) {
    return base::InvalidArgumentError("invalid TXID \"" + std::string(text) +
                                      "\": expected 1 to 16 hex digits");
  }
  TxId v = 0;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return base::InvalidArgumentError("invalid TXID \"" + std::string(text) +
                                        "\": expected hex digits");
    }
    int d = std::isdigit(static_cast<unsigned char>(c))
                ? c - '0'
                : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    v = (v << 4) | static_cast<TxId>(d);
  }
  return v;
}

std::string FormatFileName(TxId min_txid, TxId max_txid) {
  return FormatTxId(min_txid) + "-" + FormatTxId(max_txid) + ".ltx";
}

std::optional<TxRange> ParseFileName(std::string_view name) {
  if (name.size() != 37 || name[16] != '-' || name.substr(33) != ".ltx") {
    return std::nullopt;
  }
  TxRange r;
  if (!ParseHex16(name.substr(0, 16), &r.min_txid) ||
      !ParseHex16(name.substr(17, 16), &r.max_txid)) {
    return std::nullopt;
  }
  return r;
}

}  // namespace litekeep::ltx
