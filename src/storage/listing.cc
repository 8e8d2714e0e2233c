// Listings to LTX files and generic objects (storage/listing.h).
#include "storage/listing.h"

#include <algorithm>

#include "ltx/file_name.h"

namespace litekeep::storage {

std::vector<FileInfo> LevelFiles(const std::vector<ListedObject>& listed,
                                 const std::string& prefix, int level) {
  std::vector<FileInfo> files;
  for (const auto& l : listed) {
    if (l.name.size() <= prefix.size() ||
        l.name.compare(0, prefix.size(), prefix) != 0 ||
        l.name.find('/', prefix.size()) != std::string::npos) {
      continue;
    }
    auto range =
        ltx::ParseFileName(std::string_view(l.name).substr(prefix.size()));
    if (!range) continue;
    FileInfo f;
    f.level = level;
    f.min_txid = range->min_txid;
    f.max_txid = range->max_txid;
    f.size = l.size;
    f.created = l.created.value_or(l.modified);
    files.push_back(f);
  }
  std::sort(files.begin(), files.end(),
            [](const FileInfo& a, const FileInfo& b) {
              return a.min_txid != b.min_txid ? a.min_txid < b.min_txid
                                              : a.max_txid < b.max_txid;
            });
  return files;
}

std::vector<ObjectInfo> RelativeObjects(const std::vector<ListedObject>& listed,
                                        const std::string& base) {
  std::vector<ObjectInfo> out;
  out.reserve(listed.size());
  for (const auto& l : listed) {
    if (l.name.compare(0, base.size(), base) != 0) continue;
    ObjectInfo info;
    info.key = l.name.substr(base.size());
    info.size = l.size;
    info.modified = l.modified;
    info.etag = l.etag;
    out.push_back(std::move(info));
  }
  std::sort(
      out.begin(), out.end(),
      [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

}  // namespace litekeep::storage
