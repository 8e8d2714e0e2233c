// Reading an object: its chunks in stream order, one direct message get
// per chunk ($JS.API.STREAM.MSG.GET with next_by_subj on the chunk
// subject), on a connection of the reader's own. The size and SHA-256
// digest are checked at the end; a broken connection resumes from the next
// chunk (the chunk subject never changes under one meta message).
#include "storage/hash.h"
#include "storage/nats/client_impl.h"
#include "storage/retry.h"

namespace litekeep::storage::nats {
namespace {

using json = nlohmann::json;

class ChunkReader : public base::Reader {
 public:
  ChunkReader(NatsClient* client, Meta meta, int64_t offset, int64_t length)
      : client_(client),
        meta_(std::move(meta)),
        skip_(offset),
        left_(length),
        what_("get " + meta_.name + " in " + client_->Describe()) {}

  ~ChunkReader() override { client_->Release(std::move(conn_)); }

  Result<size_t> Read(std::span<uint8_t> out) override {
    if (out.empty() || left_ == 0) return size_t{0};
    while (pos_ == chunk_.size()) {
      if (chunks_read_ == meta_.chunks) {
        LK_RETURN_IF_ERROR(Finish());
        return size_t{0};
      }
      LK_RETURN_IF_ERROR(NextChunk());
      const int64_t drop =
          std::min<int64_t>(skip_, static_cast<int64_t>(chunk_.size()));
      pos_ = static_cast<size_t>(drop);
      skip_ -= drop;
    }
    size_t n = std::min(out.size(), chunk_.size() - pos_);
    if (left_ > 0) n = static_cast<size_t>(std::min<int64_t>(n, left_));
    std::memcpy(out.data(), chunk_.data() + pos_, n);
    pos_ += n;
    if (left_ > 0) left_ -= static_cast<int64_t>(n);
    return n;
  }

 private:
  Status Finish() {
    if (finished_) return Status::Ok();
    finished_ = true;
    if (read_ != meta_.size) {
      return base::CorruptError(what_ + ": read " + std::to_string(read_) +
                                " bytes, the object has " +
                                std::to_string(meta_.size));
    }
    if (skip_ > 0) {
      return base::InvalidArgumentError(what_ + ": offset beyond the end");
    }
    std::string sha, md5;
    hash_.Finish(&sha, &md5);
    if (!meta_.digest.empty() && meta_.digest.rfind("SHA-256=", 0) == 0) {
      std::string want = meta_.digest.substr(8);
      for (char& ch : want) {
        if (ch == '-') ch = '+';
        if (ch == '_') ch = '/';
      }
      auto raw = Base64Decode(want);
      if (!raw.ok() || HexEncode({reinterpret_cast<const uint8_t*>(raw->data()),
                                  raw->size()}) != sha) {
        return base::CorruptError(what_ + ": SHA-256 digest mismatch");
      }
    }
    return Status::Ok();
  }

  // Fetches the next chunk into chunk_.
  Status NextChunk() {
    RetryBudget budget(client_->options().retry);
    for (;;) {
      Status s = FetchOnce();
      if (s.ok() || !RetryPolicy::Retryable(s)) return s;
      conn_.reset();
      if (!budget.RetryAfterFailure(s)) return budget.GiveUp(what_);
    }
  }

  Status FetchOnce() {
    if (conn_ == nullptr || conn_->broken()) {
      LK_ASSIGN_OR_RETURN(conn_, client_->Acquire());
    }
    const std::string subject = client_->ChunkSubject(meta_.nuid);
    auto r = client_->Api(*conn_, "$JS.API.STREAM.MSG.GET." + client_->Stream(),
                          json{{"seq", next_seq_}, {"next_by_subj", subject}},
                          Kind::kGet, what_);
    if (!r.ok() && r.status().code() == base::Code::kNotFound) {
      return base::NotFoundError(
          what_ + ": chunk " + std::to_string(chunks_read_ + 1) + " of " +
          std::to_string(meta_.chunks) +
          " is gone (the object was replaced or deleted while being read)");
    }
    if (!r.ok()) return r.status();
    const json& m = (*r)["message"];
    const uint64_t seq = m.value("seq", uint64_t{0});
    if (seq < next_seq_) {
      return base::CorruptError(what_ + ": chunk sequence went backwards");
    }
    std::string data;
    if (m.contains("data") && m["data"].is_string() &&
        !m["data"].get<std::string>().empty()) {
      auto d = Base64Decode(m["data"].get<std::string>());
      if (!d.ok()) return base::CorruptError(what_ + ": unreadable chunk");
      data = std::move(*d);
    }
    next_seq_ = seq + 1;
    ++chunks_read_;
    read_ += static_cast<int64_t>(data.size());
    if (read_ > meta_.size) {
      return base::CorruptError(what_ + ": more bytes than the object's " +
                                std::to_string(meta_.size));
    }
    hash_.Update({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
    chunk_ = std::move(data);
    pos_ = 0;
    return Status::Ok();
  }

  NatsClient* client_;
  Meta meta_;
  int64_t skip_;
  int64_t left_;
  std::string what_;
  std::unique_ptr<Conn> conn_;
  std::string chunk_;
  size_t pos_ = 0;
  uint64_t next_seq_ = 1;
  int64_t chunks_read_ = 0;
  int64_t read_ = 0;
  bool finished_ = false;
  StreamHash hash_;
};

}  // namespace

std::unique_ptr<base::Reader> NewChunkReader(NatsClient* client, Meta meta,
                                             int64_t offset, int64_t length) {
  return std::make_unique<ChunkReader>(client, std::move(meta), offset, length);
}

Result<std::unique_ptr<base::Reader>> NatsClient::OpenName(
    const std::string& name, int64_t offset, int64_t length) {
  const std::string what = "get " + name + " in " + Describe();
  std::optional<Meta> meta;
  LK_RETURN_IF_ERROR(WithConn(what, [&](Conn& c) -> Status {
    LK_ASSIGN_OR_RETURN(meta, GetMeta(c, name));
    return Status::Ok();
  }));
  if (!meta || meta->deleted) {
    return base::NotFoundError(what + ": no such object");
  }
  if (meta->link) {
    return base::UnimplementedError(
        what + ": the object is a link, which litekeep does not follow");
  }
  if (offset < 0 || offset > meta->size) {
    return base::InvalidArgumentError(
        what + ": offset " + std::to_string(offset) + " beyond the object's " +
        std::to_string(meta->size) + " bytes");
  }
  return NewChunkReader(this, std::move(*meta), offset, length);
}

}  // namespace litekeep::storage::nats
