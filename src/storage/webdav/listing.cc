// WebDAV listings: the LTX files of a level (PROPFIND Depth 1 of its
// collection) with creation times from the LTX headers, read once per file
// and remembered by name and size; and generic objects under the replica
// path (a walk of PROPFIND Depth 1 listings).
#include "storage/listing.h"

#include <algorithm>
#include <deque>

#include "base/parallel.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "storage/layout.h"
#include "storage/webdav/client_impl.h"

namespace litekeep::storage::webdav {

Result<TimePoint> WebdavClient::HeaderTime(const std::string& name) {
  LK_ASSIGN_OR_RETURN(std::unique_ptr<base::Reader> r,
                      OpenPath(name, 0, ltx::kHeaderSize));
  uint8_t buf[ltx::kHeaderSize];
  size_t got = 0;
  while (got < sizeof(buf)) {
    LK_ASSIGN_OR_RETURN(size_t n, r->Read({buf + got, sizeof(buf) - got}));
    if (n == 0) break;
    got += n;
  }
  if (got < sizeof(buf)) {
    return base::CorruptError(Where(name) + ": shorter than an LTX header");
  }
  LK_ASSIGN_OR_RETURN(ltx::Header h, ltx::Header::Decode({buf, sizeof(buf)}));
  return TimePoint(std::chrono::milliseconds(h.timestamp_ms));
}

Result<std::vector<FileInfo>> WebdavClient::ListFiles(int level) {
  const std::string dir = LtxLevelDir(opts_.path, level);
  bool missing = false;
  LK_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, ReadDir(dir, &missing));
  std::vector<ListedObject> listed;
  for (const DirEntry& e : entries) {
    if (e.collection || !ltx::ParseFileName(e.name)) continue;
    ListedObject l;
    l.name = dir + "/" + e.name;
    l.size = e.size;
    l.modified = e.modified;
    l.etag = e.etag;
    listed.push_back(std::move(l));
  }
  // Creation times: remembered ones, else the header of each file.
  std::vector<size_t> unknown;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < listed.size(); ++i) {
      // The same version of the file: same size, and the same ETag where
      // both are known (another writer's rewrite changes it).
      auto it = created_.find(listed[i].name);
      if (it != created_.end() && it->second.size == listed[i].size &&
          (it->second.etag.empty() || listed[i].etag.empty() ||
           it->second.etag == listed[i].etag)) {
        listed[i].created = it->second.created;
        if (it->second.etag.empty()) it->second.etag = listed[i].etag;
      } else {
        unknown.push_back(i);
      }
    }
  }
  if (created_times_ == CreatedTimes::kListed) {
    // The caller compares no creation times: the server's time will do.
    for (size_t i : unknown) listed[i].created = listed[i].modified;
    unknown.clear();
  }
  std::vector<Status> errors(unknown.size());
  std::vector<bool> gone(listed.size(), false);
  base::ParallelFor(unknown.size(), opts_.concurrency, [&](size_t k) {
    ListedObject& l = listed[unknown[k]];
    auto t = HeaderTime(l.name);
    if (t.ok()) {
      l.created = *t;
    } else if (t.status().code() == base::Code::kNotFound) {
      gone[unknown[k]] = true;  // deleted since the listing
      return;
    } else if (t.status().code() == base::Code::kCorrupt) {
      // Not an LTX file under an LTX name: the server's time is all there
      // is.
      l.created = l.modified;
    } else {
      errors[k] = t.status();
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    created_[l.name] = {l.size, l.etag, *l.created};
  });
  for (const Status& e : errors) LK_RETURN_IF_ERROR(e);
  std::vector<ListedObject> present;
  present.reserve(listed.size());
  for (size_t i = 0; i < listed.size(); ++i) {
    if (!gone[i]) present.push_back(std::move(listed[i]));
  }
  return LevelFiles(present, dir + "/", level);
}

Result<TimePoint> WebdavClient::CreatedTime(const FileInfo& file) {
  const std::string name =
      LtxFilePath(opts_.path, file.level, file.min_txid, file.max_txid);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = created_.find(name);
    if (it != created_.end() && it->second.size == file.size) {
      return it->second.created;
    }
  }
  auto t = HeaderTime(name);
  // Not an LTX file under an LTX name: the server's time is all there is.
  if (!t.ok() && t.status().code() == base::Code::kCorrupt) return file.created;
  if (!t.ok()) return t.status();
  std::lock_guard<std::mutex> lock(mu_);
  created_[name] = {file.size, "", *t};
  return *t;
}

Result<std::vector<ObjectInfo>> WebdavClient::ListObjects(
    const std::string& prefix) {
  // Walk from the deepest collection the prefix names.
  const size_t slash = prefix.rfind('/');
  std::deque<std::string> todo = {
      slash == std::string::npos ? "" : prefix.substr(0, slash)};
  std::vector<ObjectInfo> out;
  while (!todo.empty()) {
    const std::string rel = std::move(todo.front());
    todo.pop_front();
    bool missing = false;
    LK_ASSIGN_OR_RETURN(std::vector<DirEntry> entries,
                        ReadDir(Join(rel), &missing));
    for (DirEntry& e : entries) {
      const std::string key = rel.empty() ? e.name : rel + "/" + e.name;
      if (e.collection) {
        const std::string as_dir = key + "/";
        if (as_dir.compare(0, std::min(as_dir.size(), prefix.size()), prefix, 0,
                           std::min(as_dir.size(), prefix.size())) == 0) {
          todo.push_back(key);
        }
        continue;
      }
      if (key.compare(0, prefix.size(), prefix) != 0 || IsTempName(e.name)) {
        continue;
      }
      ObjectInfo info;
      info.key = key;
      info.size = e.size;
      info.modified = e.modified;
      info.etag = std::move(e.etag);
      out.push_back(std::move(info));
    }
  }
  std::sort(
      out.begin(), out.end(),
      [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

}  // namespace litekeep::storage::webdav
