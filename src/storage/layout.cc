// Replica object names (docs/storage_layout.md).
#include "storage/layout.h"

#include <fmt/format.h>

namespace litekeep::storage {

std::string LtxDir(std::string_view root) {
  std::string out(root);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (!out.empty() && out != "/") out += '/';
  return out + "ltx";
}

std::string LtxLevelDir(std::string_view root, int level) {
  return LtxDir(root) + "/" + std::to_string(level);
}

std::string LtxFilePath(std::string_view root, int level, TxId min_txid,
                        TxId max_txid) {
  return LtxLevelDir(root, level) + "/" +
         ltx::FormatFileName(min_txid, max_txid);
}

namespace s3 {

std::string LevelPrefix(std::string_view path, int level) {
  return fmt::format("{}/{:04x}/", path, static_cast<unsigned>(level));
}

std::string ObjectKey(std::string_view path, int level, TxId min_txid,
                      TxId max_txid) {
  return LevelPrefix(path, level) + ltx::FormatFileName(min_txid, max_txid);
}

std::optional<ltx::TxRange> ParseObjectName(std::string_view key) {
  const size_t slash = key.rfind('/');
  return ltx::ParseFileName(
      slash == std::string_view::npos ? key : key.substr(slash + 1));
}

}  // namespace s3
}  // namespace litekeep::storage
