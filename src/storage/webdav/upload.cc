// Writing files atomically: the bytes go to a temporary name beside the
// file ("<name>.tmp-<16 hex>", never listed) with PUT and Content-Length,
// and are moved into place with MOVE (Overwrite: T), so a reader sees no
// file or the whole file. Missing collections are created first. Bodies up
// to the memory buffer are held in memory for retries; larger ones are
// staged in a private temporary file (as Litestream's client does, which
// also avoids chunked uploads some servers lose).
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "storage/layout.h"
#include "storage/webdav/client_impl.h"

namespace litekeep::storage::webdav {
namespace {

std::string TempSuffix() {
  unsigned char r[8];
  if (RAND_bytes(r, sizeof(r)) != 1) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const uint64_t v = rng();
    std::memcpy(r, &v, sizeof(r));
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), ".tmp-%02x%02x%02x%02x%02x%02x%02x%02x", r[0],
                r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
  return buf;
}

// Reads a range of an open file with pread (the file stays open).
class SharedFileReader : public base::Reader {
 public:
  SharedFileReader(const base::File* file, int64_t size)
      : file_(file), size_(size) {}
  Result<size_t> Read(std::span<uint8_t> buf) override {
    const int64_t left = size_ - pos_;
    if (left <= 0) return size_t{0};
    const size_t want =
        static_cast<size_t>(std::min<int64_t>(left, buf.size()));
    LK_ASSIGN_OR_RETURN(size_t n, file_->ReadAt(buf.data(), want, pos_));
    if (n == 0) {
      return base::IoError("staged upload " + file_->path() +
                           ": shorter than expected");
    }
    pos_ += static_cast<int64_t>(n);
    return n;
  }

 private:
  const base::File* file_;
  int64_t size_;
  int64_t pos_ = 0;
};

// A private, already unlinked temporary file in $TMPDIR (or /tmp).
Result<base::File> StagingFile() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") +
                        "/litekeep-webdav-XXXXXX";
  int fd = ::mkstemp(pattern.data());
  if (fd < 0) {
    return base::IoError("webdav: cannot create a staging file in " +
                         pattern.substr(0, pattern.rfind('/')) + ": " +
                         std::strerror(errno));
  }
  ::unlink(pattern.c_str());
  return base::File(fd, pattern);
}

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

}  // namespace

Result<std::string> WebdavClient::PutTemp(const std::string& path,
                                          Request body) {
  const std::string temp = path + TempSuffix();
  body.method = "PUT";
  body.path = temp;
  body.kind = Kind::kPut;
  LK_RETURN_IF_ERROR(EnsureCollections(DirOf(path)));
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(body, "put"));
  if (resp.status == 404 || resp.status == 409) {
    // A collection we remembered was removed (by DeleteAll elsewhere, or a
    // person), perhaps with its parents: create them again, once.
    ForgetCollections("", /*with_times=*/false);
    LK_RETURN_IF_ERROR(EnsureCollections(DirOf(path)));
    LK_ASSIGN_OR_RETURN(resp, Execute(body, "put"));
  }
  if (resp.status != 201 && resp.status != 204 && resp.status != 200) {
    return ResponseError(resp, "put", temp);
  }
  return temp;
}

Result<HttpResponse> WebdavClient::Move(const std::string& from,
                                        const std::string& to, bool overwrite,
                                        const std::string& lock_token) {
  Request r;
  r.method = "MOVE";
  r.path = from;
  r.kind = Kind::kPut;
  r.headers = {{"Destination", Url(to, false)},
               {"Overwrite", overwrite ? "T" : "F"}};
  if (!lock_token.empty()) {
    r.headers.emplace_back("If",
                           "<" + Url(to, false) + "> (" + lock_token + ")");
  }
  return Execute(r, "move");
}

void WebdavClient::DropTemp(const std::string& temp) {
  (void)DeletePath(temp, false);
}

Status WebdavClient::WriteFile(const FileInfo& info, base::Reader& data) {
  const std::string name =
      LtxFilePath(opts_.path, info.level, info.min_txid, info.max_txid);
  if (info.size < 0) {
    return base::InvalidArgumentError("put " + Where(name) + ": negative size");
  }
  Request body;
  std::string memory;
  base::File staged;
  if (info.size <= opts_.memory_buffer) {
    memory.assign(static_cast<size_t>(info.size), '\0');
    LK_RETURN_IF_ERROR(
        data.ReadFull(
                {reinterpret_cast<uint8_t*>(memory.data()), memory.size()})
            .WithContext("put " + Where(name) + ": reading data"));
    body.body = memory;
  } else {
    LK_ASSIGN_OR_RETURN(staged, StagingFile());
    std::vector<uint8_t> buf(1 << 20);
    int64_t copied = 0;
    while (copied < info.size) {
      const size_t want = static_cast<size_t>(
          std::min<int64_t>(info.size - copied, buf.size()));
      LK_RETURN_IF_ERROR(
          data.ReadFull({buf.data(), want})
              .WithContext("put " + Where(name) + ": reading data"));
      LK_RETURN_IF_ERROR(staged.WriteAll(buf.data(), want));
      copied += static_cast<int64_t>(want);
    }
    const base::File* file = &staged;
    const int64_t size = info.size;
    body.body_source = [file, size]() -> Result<std::unique_ptr<base::Reader>> {
      return std::unique_ptr<base::Reader>(new SharedFileReader(file, size));
    };
    body.body_size = info.size;
  }
  uint8_t extra;
  LK_ASSIGN_OR_RETURN(size_t n, data.Read({&extra, 1}));
  if (n != 0) {
    return base::InvalidArgumentError("put " + Where(name) +
                                      ": data is longer than " +
                                      std::to_string(info.size) + " bytes");
  }

  LK_ASSIGN_OR_RETURN(std::string temp, PutTemp(name, std::move(body)));
  auto moved = Move(temp, name, /*overwrite=*/true, "");
  if (!moved.ok() || (moved->status != 201 && moved->status != 204)) {
    Status failure =
        moved.ok() ? ResponseError(*moved, "move", temp) : moved.status();
    if (moved.ok() && moved->status == 404) {
      // An answer lost in transit: the first MOVE may have happened.
      bool missing = false;
      auto entries = ReadDir(DirOf(name), &missing);
      if (entries.ok()) {
        const std::string base = name.substr(name.rfind('/') + 1);
        for (const DirEntry& e : *entries) {
          if (e.name == base && !e.collection && e.size == info.size) {
            failure = Status::Ok();
          }
        }
      }
    }
    if (!failure.ok()) {
      DropTemp(temp);
      return failure;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  created_[name] = {info.size, "", info.created};
  return Status::Ok();
}

}  // namespace litekeep::storage::webdav
