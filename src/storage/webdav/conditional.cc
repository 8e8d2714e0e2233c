// Conditional writes of small control objects over WebDAV (the replica
// lease). The version is the CRC-64 of the content, so it does not depend
// on the server's ETags. Create-if-absent: PUT to a temporary name, then
// MOVE with Overwrite: F (the server refuses with 412 when the name exists).
// Replace: under an exclusive WebDAV write lock on the object (LOCK,
// compare, MOVE with the lock token, UNLOCK), so every other litekeep
// writer waits or fails; servers without locks (DAV class 1) get the best
// effort SFTP gets: compare, then move (docs/storage_layout.md, "WebDAV").
#include <cstdio>
#include <thread>

#include "base/crc64.h"
#include "storage/webdav/client_impl.h"

namespace litekeep::storage::webdav {
namespace {

constexpr char kLockBody[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
    "<D:locktype><D:write/></D:locktype><D:owner>litekeep</D:owner>"
    "</D:lockinfo>";

std::string VersionOf(const std::string& data) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(base::Crc64Of(data)));
  return buf;
}

bool ValidKey(const std::string& key) {
  return !key.empty() && key.front() != '/' &&
         ("/" + key + "/").find("/../") == std::string::npos &&
         ("/" + key + "/").find("/./") == std::string::npos;
}

}  // namespace

Result<VersionedObject> WebdavClient::ReadVersioned(const std::string& key) {
  if (!ValidKey(key)) {
    return base::InvalidArgumentError("invalid object key \"" + key + "\"");
  }
  Request r;
  r.kind = Kind::kGet;
  r.path = Join(key);
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "get"));
  if (resp.status == 404) {
    return base::NotFoundError("get " + Where(r.path) + ": not found");
  }
  if (resp.status != 200) return ResponseError(resp, "get", r.path);
  if (resp.body.size() > (1 << 20)) {
    return base::CorruptError("get " + Where(r.path) + ": larger than 1 MiB");
  }
  VersionedObject out;
  out.data = std::move(resp.body);
  out.version = VersionOf(out.data);
  return out;
}

Result<std::string> WebdavClient::ReplaceLocked(const std::string& path,
                                                const std::string& temp,
                                                const std::string& data,
                                                const std::string& if_version) {
  Request lock;
  lock.method = "LOCK";
  lock.path = path;
  lock.kind = Kind::kPut;
  lock.headers = {{"Depth", "0"},
                  {"Timeout", "Second-30"},
                  {"Content-Type", "application/xml; charset=utf-8"}};
  lock.body = kLockBody;
  HttpResponse locked;
  // Another writer holding the lock finishes within a few round trips.
  auto wait = std::chrono::milliseconds(25);
  for (int attempt = 0;; ++attempt) {
    LK_ASSIGN_OR_RETURN(locked, Execute(lock, "lock"));
    if (locked.status != 423) break;
    if (attempt >= 7) {
      return base::FailedPreconditionError(
          "replace " + Where(path) +
          ": another writer holds its lock (HTTP 423)");
    }
    std::this_thread::sleep_for(wait);
    wait *= 2;
  }
  const std::string token = locked.Header("lock-token").value_or("");
  if (locked.status == 405 || locked.status == 501 || locked.status == 400 ||
      ((locked.status == 200 || locked.status == 201) && token.empty())) {
    locks_unsupported_ = true;
    return base::UnimplementedError("the server has no WebDAV locks");
  }
  if (locked.status != 200 && locked.status != 201) {
    return ResponseError(locked, "lock", path);
  }
  auto unlock = [&] {
    Request r;
    r.method = "UNLOCK";
    r.path = path;
    r.kind = Kind::kPut;
    r.headers = {{"Lock-Token", token}};
    (void)Execute(r, "unlock");
  };
  if (locked.status == 201) {
    // The object was gone: the lock made an empty one; remove it.
    Request del;
    del.method = "DELETE";
    del.path = path;
    del.kind = Kind::kDel;
    del.headers = {{"If", "(" + token + ")"}};
    (void)Execute(del, "delete");
    unlock();
    return base::FailedPreconditionError("replace " + Where(path) +
                                         ": it no longer exists");
  }
  Request get;
  get.kind = Kind::kGet;
  get.path = path;
  auto current = Execute(get, "get");
  Status failure;
  if (!current.ok()) {
    failure = current.status();
  } else if (current->status == 404) {
    failure = base::FailedPreconditionError("replace " + Where(path) +
                                            ": it no longer exists");
  } else if (current->status != 200) {
    failure = ResponseError(*current, "get", path);
  } else if (VersionOf(current->body) != if_version) {
    failure = base::FailedPreconditionError("replace " + Where(path) +
                                            ": it changed since it was read");
  } else {
    auto moved = Move(temp, path, /*overwrite=*/true, token);
    if (!moved.ok()) {
      failure = moved.status();
    } else if (moved->status != 201 && moved->status != 204) {
      failure = ResponseError(*moved, "move", temp);
    }
  }
  unlock();
  LK_RETURN_IF_ERROR(failure);
  return VersionOf(data);
}

Result<std::string> WebdavClient::ReplaceUnlocked(
    const std::string& path, const std::string& temp, const std::string& data,
    const std::string& if_version) {
  Request get;
  get.kind = Kind::kGet;
  get.path = path;
  LK_ASSIGN_OR_RETURN(HttpResponse current, Execute(get, "get"));
  if (current.status == 404) {
    return base::FailedPreconditionError("replace " + Where(path) +
                                         ": it no longer exists");
  }
  if (current.status != 200) return ResponseError(current, "get", path);
  if (VersionOf(current.body) != if_version) {
    return base::FailedPreconditionError("replace " + Where(path) +
                                         ": it changed since it was read");
  }
  LK_ASSIGN_OR_RETURN(HttpResponse moved,
                      Move(temp, path, /*overwrite=*/true, ""));
  if (moved.status != 201 && moved.status != 204) {
    return ResponseError(moved, "move", temp);
  }
  return VersionOf(data);
}

Result<std::string> WebdavClient::WriteIf(const std::string& key,
                                          const std::string& data,
                                          const std::string& if_version) {
  if (!ValidKey(key)) {
    return base::InvalidArgumentError("invalid object key \"" + key + "\"");
  }
  const std::string path = Join(key);
  Request body;
  body.body = data;
  body.headers = {{"Content-Type", "application/json"}};
  LK_ASSIGN_OR_RETURN(std::string temp, PutTemp(path, std::move(body)));
  if (if_version.empty()) {
    auto moved = Move(temp, path, /*overwrite=*/false, "");
    if (moved.ok() && (moved->status == 201 || moved->status == 204)) {
      return VersionOf(data);
    }
    DropTemp(temp);
    if (!moved.ok()) return moved.status();
    if (moved->status == 412 || moved->status == 423 || moved->status == 404) {
      // 404: a lost answer may hide our own move; the caller re-reads.
      return base::AlreadyExistsError("create " + Where(path) +
                                      ": it already exists (HTTP " +
                                      std::to_string(moved->status) + ")");
    }
    return ResponseError(*moved, "move", temp);
  }
  Result<std::string> out = base::UnimplementedError("");
  if (opts_.use_locks && !locks_unsupported_) {
    out = ReplaceLocked(path, temp, data, if_version);
  }
  if (!out.ok() && out.status().code() == base::Code::kUnimplemented) {
    out = ReplaceUnlocked(path, temp, data, if_version);
  }
  if (!out.ok()) DropTemp(temp);
  return out;
}

}  // namespace litekeep::storage::webdav
