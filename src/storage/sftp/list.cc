// Generic object listing over SFTP: every regular file under a prefix of
// the replica path, at any depth (for Litestream 0.3 replicas and
// `litekeep sync`).
#include <algorithm>
#include <chrono>

#include "storage/sftp/client_impl.h"

namespace litekeep::storage::sftp {

using base::Status;

Result<std::vector<ObjectInfo>> SftpClient::ListObjects(
    const std::string& prefix) {
  ++lists_;
  // Walk the deepest directory the prefix names; filter by the full prefix.
  const size_t slash = prefix.rfind('/');
  const std::string rel_dir =
      slash == std::string::npos ? "" : prefix.substr(0, slash);
  std::vector<ObjectInfo> out;
  Status s = Run(
      "list " + Describe() + " under \"" + prefix + "\"",
      [&](Connection& conn) -> Status {
        out.clear();
        // Directories still to read, as keys relative to the replica path.
        std::vector<std::string> todo = {rel_dir};
        while (!todo.empty()) {
          const std::string rel = todo.back();
          todo.pop_back();
          const std::string dir =
              rel.empty() ? (opts_.path.empty() ? "." : opts_.path) : Join(rel);
          auto entries = ReadDir(conn, dir);
          if (!entries.ok()) {
            if (entries.status().code() == base::Code::kNotFound) continue;
            return entries.status();
          }
          for (const Entry& e : *entries) {
            const std::string key = rel.empty() ? e.name : rel + "/" + e.name;
            if (e.directory) {
              // Only descend where keys with the prefix can be.
              const std::string as_dir = key + "/";
              if (as_dir.compare(0, std::min(as_dir.size(), prefix.size()),
                                 prefix, 0,
                                 std::min(as_dir.size(), prefix.size())) == 0) {
                todo.push_back(key);
              }
              continue;
            }
            if (!e.regular || key.compare(0, prefix.size(), prefix) != 0) {
              continue;
            }
            ObjectInfo info;
            info.key = key;
            info.size = e.size;
            // The change tag: SFTP v3 offers nothing better than the
            // mtime (with the size, compared by the caller).
            info.etag = "mtime:" + std::to_string(e.mtime);
            info.modified =
                TimePoint(std::chrono::duration_cast<TimePoint::duration>(
                    std::chrono::seconds(e.mtime)));
            out.push_back(std::move(info));
          }
        }
        return Status::Ok();
      });
  if (!s.ok()) {
    ++list_errors_;
    return s;
  }
  std::sort(
      out.begin(), out.end(),
      [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

}  // namespace litekeep::storage::sftp
