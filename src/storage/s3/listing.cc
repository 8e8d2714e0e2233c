// S3 listings: ListObjectsV2 pages (with a guard against stores that loop),
// LTX files of a level (with their stored creation times, or LastModified
// where the caller needs no exact times), and generic objects under the
// replica path.
#include <algorithm>
#include <charconv>
#include <set>

#include "base/parallel.h"
#include "storage/s3/client_impl.h"
#include "storage/s3/keys.h"
#include "storage/xml.h"

namespace litekeep::storage::s3 {
namespace {

// A listed <Size>: a decimal byte count, or -1 for anything else (empty,
// negative, junk, past int64).
int64_t ParseSize(const std::string& text) {
  int64_t v = -1;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  return ec == std::errc() && p == end && v >= 0 ? v : -1;
}

}  // namespace

Result<std::vector<Listed>> S3Client::ListKeys(const std::string& prefix) {
  std::vector<Listed> out;
  std::string token;
  std::set<std::string> seen_tokens;
  for (int page = 0;; ++page) {
    if (page >= std::max(1, opts_.max_list_pages)) {
      return base::UnavailableError(
          "list s3://" + opts_.bucket + "/" + prefix + ": more than " +
          std::to_string(opts_.max_list_pages) +
          " pages; the store keeps answering IsTruncated=true");
    }
    Request r;
    r.kind = Kind::kList;
    r.query = {{"list-type", "2"}, {"prefix", prefix}};
    if (!token.empty()) r.query.emplace_back("continuation-token", token);
    LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "list"));
    if (resp.status != 200) return ResponseError(resp, "list", prefix);
    for (std::string_view c : XmlBlocks(resp.body, "Contents")) {
      Listed l;
      l.key = XmlText(c, "Key");
      l.size = ParseSize(XmlText(c, "Size"));
      l.last_modified =
          ParseTimestamp(XmlText(c, "LastModified")).value_or(TimePoint{});
      l.etag = XmlText(c, "ETag");
      out.push_back(std::move(l));
    }
    std::string truncated = XmlText(resp.body, "IsTruncated");
    token = XmlText(resp.body, "NextContinuationToken");
    if (truncated != "true" || token.empty()) break;
    if (!seen_tokens.insert(token).second) {
      // Following it again would list the same pages forever.
      return base::UnavailableError(
          "list s3://" + opts_.bucket + "/" + prefix +
          ": the store repeated continuation token \"" + token + "\" after " +
          std::to_string(page + 1) +
          " pages; refusing to loop (a store bug: check the endpoint)");
    }
  }
  return out;
}

Result<std::vector<FileInfo>> S3Client::ListFiles(int level) {
  const std::string prefix = LevelPrefix(opts_.path, level);
  LK_ASSIGN_OR_RETURN(std::vector<Listed> listed, ListKeys(prefix));

  std::vector<FileInfo> files;
  std::vector<std::string> keys;
  for (const auto& l : listed) {
    if (l.key.size() <= prefix.size() ||
        l.key.compare(0, prefix.size(), prefix) != 0 ||
        l.key.find('/', prefix.size()) != std::string::npos) {
      continue;
    }
    auto range = ParseObjectName(l.key);
    if (!range) continue;
    if (l.size < 0) {
      return base::CorruptError("list s3://" + opts_.bucket + "/" + prefix +
                                ": the store listed " + l.key +
                                " without a valid size");
    }
    FileInfo f;
    f.level = level;
    f.min_txid = range->min_txid;
    f.max_txid = range->max_txid;
    f.size = l.size;
    f.created = l.last_modified;
    files.push_back(f);
    keys.push_back(l.key);
  }

  if (opts_.list_timestamps == ListTimestamps::kMetadata) {
    // Times this client wrote or read before are exact and free; the
    // others cost a HEAD each, sent only when the caller needs exact times.
    const bool exact = created_times_ == CreatedTimes::kExact;
    std::vector<size_t> unknown;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = 0; i < files.size(); ++i) {
        auto it = created_.find(keys[i]);
        if (it != created_.end()) {
          files[i].created = it->second;
        } else if (exact) {
          unknown.push_back(i);
        }
      }
    }
    std::vector<Status> errors(unknown.size());
    std::vector<char> gone(files.size(), 0);
    base::ParallelFor(unknown.size(), opts_.list_concurrency, [&](size_t u) {
      size_t i = unknown[u];
      auto t = HeadCreated(keys[i], files[i].created);
      if (t.ok()) {
        files[i].created = *t;
      } else if (t.status().code() == base::Code::kNotFound) {
        gone[i] = 1;  // deleted since the listing
      } else {
        errors[u] = t.status();
      }
    });
    for (const auto& e : errors) LK_RETURN_IF_ERROR(e);
    std::vector<FileInfo> kept;
    for (size_t i = 0; i < files.size(); ++i) {
      if (!gone[i]) kept.push_back(files[i]);
    }
    files = std::move(kept);
  }

  std::sort(files.begin(), files.end(),
            [](const FileInfo& a, const FileInfo& b) {
              return a.min_txid != b.min_txid ? a.min_txid < b.min_txid
                                              : a.max_txid < b.max_txid;
            });
  return files;
}

Result<HttpResponse> S3Client::HeadKey(const std::string& key) {
  Request r;
  r.method = "HEAD";
  r.kind = Kind::kHead;
  r.key = key;
  r.headers = CustomerKeyHeaders(opts_);
  return Execute(r, "head");
}

Result<TimePoint> S3Client::HeadCreated(const std::string& key,
                                        TimePoint listed) {
  LK_ASSIGN_OR_RETURN(HttpResponse resp, HeadKey(key));
  if (resp.status == 404) {
    return base::NotFoundError("s3://" + opts_.bucket + "/" + key +
                               " is gone (deleted since it was listed)");
  }
  if (resp.status != 200) return ResponseError(resp, "head", key);
  TimePoint created = listed;
  if (auto meta =
          resp.Header("x-amz-meta-" + std::string(kTimestampMetadata))) {
    if (auto t = ParseTimestamp(*meta)) created = *t;
  }
  std::lock_guard<std::mutex> lock(mu_);
  created_[key] = created;
  return created;
}

Result<TimePoint> S3Client::CreatedTime(const FileInfo& file) {
  if (opts_.list_timestamps != ListTimestamps::kMetadata) return file.created;
  const std::string key =
      ObjectKey(opts_.path, file.level, file.min_txid, file.max_txid);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = created_.find(key);
    if (it != created_.end()) return it->second;
  }
  return HeadCreated(key, file.created);
}

// Generic objects: keys relative to the replica path. An empty path puts
// them at the bucket root (as Litestream 0.3's path.Join does).
Result<std::vector<ObjectInfo>> S3Client::ListObjects(
    const std::string& prefix) {
  LK_RETURN_IF_ERROR(EnsureRegion());
  const std::string base = opts_.path.empty() ? "" : opts_.path + "/";
  LK_ASSIGN_OR_RETURN(std::vector<Listed> listed, ListKeys(base + prefix));
  std::vector<ObjectInfo> out;
  out.reserve(listed.size());
  for (auto& l : listed) {
    if (l.key.compare(0, base.size(), base) != 0) continue;
    ObjectInfo info;
    info.key = l.key.substr(base.size());
    info.size = l.size;
    info.modified = l.last_modified;
    info.etag = l.etag;
    out.push_back(std::move(info));
  }
  std::sort(
      out.begin(), out.end(),
      [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

}  // namespace litekeep::storage::s3
