// Replica object names.
#include "storage/layout.h"

#include "ltx/file_name.h"

namespace litekeep::storage {

std::string LtxLevelDir(std::string_view root, int level) {
  std::string out(root);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (!out.empty() && out != "/") out += '/';
  if (out == "/") out = "/";
  out += "ltx/" + std::to_string(level);
  return out;
}

std::string LtxFilePath(std::string_view root, int level, TxId min_txid,
                        TxId max_txid) {
  return LtxLevelDir(root, level) + "/" +
         ltx::FormatFileName(min_txid, max_txid);
}

}  // namespace litekeep::storage
