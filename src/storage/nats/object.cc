// The object store as nats.go implements it (docs/storage_layout.md
// "NATS"): an object is chunks of at most 128 KiB published on
// $O.<bucket>.C.<nuid> followed by one JSON meta message on
// $O.<bucket>.M.<base64url(name)> carrying Nats-Rollup: sub, so the newest
// meta message is the object; readers never see an object before its meta
// message lands. Replacing an object purges the old chunks afterwards;
// deleting publishes a meta message with deleted:true and purges the chunks.
// Conditional writes (the replica lease) add
// Nats-Expected-Last-Subject-Sequence to the meta message.
#include <openssl/rand.h>

#include <set>

#include "base/rfc3339.h"
#include "base/text.h"
#include "storage/hash.h"
#include "storage/nats/client_impl.h"

namespace litekeep::storage::nats {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// A new object id: 22 base62 characters, like nats.go's NUIDs.
std::string NewNuid() {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  unsigned char r[22];
  if (RAND_bytes(r, sizeof r) != 1) {
    const auto t = Clock::now().time_since_epoch().count();
    for (size_t i = 0; i < sizeof r; ++i) {
      r[i] = static_cast<unsigned char>(t >> ((i % 8) * 8)) ^
             static_cast<unsigned char>(i * 37);
    }
  }
  std::string out;
  for (unsigned char b : r) out += kAlphabet[b % 62];
  return out;
}

std::string HexToRaw(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

// nats.go's digest: "SHA-256=" + base64.URLEncoding (padded) of the hash.
std::string Digest(const std::string& sha256_hex) {
  std::string b = Base64Encode(HexToRaw(sha256_hex));
  for (char& ch : b) {
    if (ch == '+') ch = '-';
    if (ch == '/') ch = '_';
  }
  return "SHA-256=" + b;
}

}  // namespace

bool ParseMeta(std::string_view text, Meta* meta) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) {
    return false;
  }
  meta->name = j["name"].get<std::string>();
  meta->nuid = j.value("nuid", std::string());
  meta->digest = j.value("digest", std::string());
  meta->size = j.value("size", int64_t{0});
  meta->chunks = j.value("chunks", int64_t{0});
  meta->deleted = j.value("deleted", false);
  if (auto o = j.find("options"); o != j.end() && o->is_object()) {
    meta->link = o->contains("link") && !(*o)["link"].is_null();
  }
  if (auto h = j.find("headers"); h != j.end() && h->is_object()) {
    for (const auto& [k, v] : h->items()) {
      if (base::Lower(k) != base::Lower(kTimestampHeader)) continue;
      if (v.is_array() && !v.empty() && v[0].is_string()) {
        if (auto t = base::ParseRfc3339(v[0].get<std::string>()); t.ok()) {
          meta->created = *t;
        }
      }
    }
  }
  meta->raw = std::string(text);
  return true;
}

Result<uint64_t> NatsClient::CheckAck(const Msg& m,
                                      std::string_view what) const {
  if (m.status == 503) return NoBucket(what);
  json j = json::parse(m.data, nullptr, false);
  if (!j.is_object()) {
    return base::UnavailableError(std::string(what) +
                                  ": unreadable publish acknowledgement");
  }
  if (auto e = j.find("error"); e != j.end() && e->is_object()) {
    return ApiError(*e, what);
  }
  if (!j.contains("seq") || !j["seq"].is_number_unsigned()) {
    return base::UnavailableError(std::string(what) +
                                  ": the acknowledgement has no sequence");
  }
  return j["seq"].get<uint64_t>();
}

Result<std::optional<Meta>> NatsClient::GetMeta(Conn& c,
                                                const std::string& name) {
  auto r = Api(c, "$JS.API.STREAM.MSG.GET." + Stream(),
               json{{"last_by_subj", MetaSubject(name)}}, Kind::kHead,
               "get " + name + " in " + Describe());
  if (!r.ok() && r.status().code() == base::Code::kNotFound) {
    return std::optional<Meta>();
  }
  if (!r.ok()) return r.status();
  const json& m = (*r)["message"];
  std::string data;
  if (m.contains("data") && m["data"].is_string() &&
      !m["data"].get<std::string>().empty()) {
    auto d = Base64Decode(m["data"].get<std::string>());
    if (!d.ok()) {
      return base::CorruptError("get " + name + " in " + Describe() +
                                ": unreadable meta message");
    }
    data = std::move(*d);
  }
  Meta meta;
  if (!ParseMeta(data, &meta)) {
    return base::CorruptError("get " + name + " in " + Describe() +
                              ": the meta message is not object metadata");
  }
  meta.seq = m.value("seq", uint64_t{0});
  if (m.contains("time") && m["time"].is_string()) {
    if (auto t = base::ParseRfc3339(m["time"].get<std::string>()); t.ok()) {
      meta.modified = *t;
    }
  }
  return std::optional<Meta>(std::move(meta));
}

Status NatsClient::Purge(Conn& c, const std::string& subject) {
  LK_ASSIGN_OR_RETURN(
      json r, Api(c, "$JS.API.STREAM.PURGE." + Stream(),
                  json{{"filter", subject}}, Kind::kDel, "purge " + subject));
  (void)r;
  return Status::Ok();
}

Status NatsClient::Put(Conn& c, const std::string& name,
                       std::optional<TimePoint> created, base::Reader& data,
                       int64_t size, std::optional<uint64_t> expect,
                       uint64_t* seq) {
  const std::string what = "put " + name + " in " + Describe();
  // Conditional writes look the name up first. Plain ones do not: their
  // meta message first says "the name is new" (expected sequence 0), which
  // is what an upload of an LTX file almost always is; only when JetStream
  // refuses it is the previous object looked up (its chunks are purged).
  std::optional<Meta> existing;
  if (expect) {
    LK_ASSIGN_OR_RETURN(existing, GetMeta(c, name));
  }
  bool live = existing && !existing->deleted;
  uint64_t expected_seq = 0;
  if (expect) {
    if (*expect == 0) {
      if (live) {
        return base::AlreadyExistsError("create " + name + " in " + Describe() +
                                        ": it already exists");
      }
      expected_seq = existing ? existing->seq : 0;
    } else {
      if (!live || existing->seq != *expect) {
        return base::FailedPreconditionError("replace " + name + " in " +
                                             Describe() +
                                             ": it changed since it was read");
      }
      expected_seq = *expect;
    }
  }

  const std::string nuid = NewNuid();
  const std::string chunk_subject = ChunkSubject(nuid);
  StreamHash hash;
  std::set<std::string> pending;  // reply subjects of unacknowledged chunks
  Status failure;
  auto take_ack = [&]() -> Status {
    LK_ASSIGN_OR_RETURN(Msg m, c.Next());
    if (!c.IsReply(m) || pending.erase(m.subject) == 0) return Status::Ok();
    auto ack = CheckAck(m, what);
    Count(Kind::kPut, !ack.ok());
    return ack.status();
  };
  auto purge_partial = [&]() {
    if (!c.broken()) (void)Purge(c, chunk_subject);
  };
  const int64_t chunk_size = std::min(opts_.chunk_size, c.max_payload());
  std::string chunk;
  int64_t sent = 0, chunks = 0;
  while (sent < size) {
    chunk.resize(static_cast<size_t>(std::min(chunk_size, size - sent)));
    Status read =
        data.ReadFull({reinterpret_cast<uint8_t*>(chunk.data()), chunk.size()})
            .WithContext(what + ": reading data");
    if (!read.ok()) {
      while (!pending.empty() && take_ack().ok()) {
      }
      purge_partial();
      // A short source is the caller's mistake, not the store's.
      return read.code() == base::Code::kCorrupt
                 ? base::InvalidArgumentError(read.message())
                 : read;
    }
    hash.Update({reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()});
    const std::string reply = c.NewReply();
    pending.insert(reply);
    LK_RETURN_IF_ERROR(c.Publish(chunk_subject, reply, "", chunk));
    sent += static_cast<int64_t>(chunk.size());
    ++chunks;
    while (static_cast<int>(pending.size()) >= opts_.publish_window) {
      failure = take_ack();
      if (!failure.ok()) {
        purge_partial();
        return failure;
      }
    }
  }
  uint8_t extra;
  LK_ASSIGN_OR_RETURN(size_t more, data.Read({&extra, 1}));
  while (!pending.empty()) {
    failure = take_ack();
    if (!failure.ok()) {
      purge_partial();
      return failure;
    }
  }
  if (more != 0) {
    purge_partial();
    return base::InvalidArgumentError(what + ": data is longer than " +
                                      std::to_string(size) + " bytes");
  }
  std::string sha_hex, md5_unused;
  hash.Finish(&sha_hex, &md5_unused);

  // The meta message, field for field as nats.go marshals ObjectInfo.
  ojson meta;
  meta["name"] = name;
  if (created) {
    meta["headers"] = {
        {kTimestampHeader, ojson::array({base::FormatRfc3339Nano(*created)})}};
  }
  meta["options"] = {{"max_chunk_size", chunk_size}};
  meta["bucket"] = opts_.bucket;
  meta["nuid"] = nuid;
  meta["size"] = size;
  meta["mtime"] = "0001-01-01T00:00:00Z";
  meta["chunks"] = chunks;
  meta["digest"] = Digest(sha_hex);
  auto publish_meta = [&](bool conditional) -> Result<uint64_t> {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Nats-Rollup", "sub"}};
    if (conditional) {
      headers.emplace_back("Nats-Expected-Last-Subject-Sequence",
                           std::to_string(expected_seq));
    }
    auto m = c.Request(MetaSubject(name), EncodeHeaders(headers), meta.dump());
    if (!m.ok()) {
      Count(Kind::kPut, true);
      return m.status();
    }
    auto ack = CheckAck(*m, what);
    Count(Kind::kPut, !ack.ok());
    return ack;
  };
  auto ack = publish_meta(true);
  if (!expect && !ack.ok() &&
      ack.status().code() == base::Code::kFailedPrecondition) {
    // The name exists (or existed): replace it, then purge its chunks.
    auto previous = GetMeta(c, name);
    if (!previous.ok()) {
      purge_partial();
      return previous.status();
    }
    existing = std::move(*previous);
    live = existing && !existing->deleted;
    ack = publish_meta(false);
  }
  if (!ack.ok()) {
    purge_partial();
    if (expect && ack.status().code() == base::Code::kFailedPrecondition) {
      if (*expect == 0) {
        return base::AlreadyExistsError("create " + name + " in " + Describe() +
                                        ": " + ack.status().message());
      }
      return base::FailedPreconditionError(
          "replace " + name + " in " + Describe() +
          ": it changed since it was read (" + ack.status().message() + ")");
    }
    return ack.status();
  }
  if (seq != nullptr) *seq = *ack;
  // The replaced object's chunks (as nats.go, a failure here only leaves
  // unreachable chunks behind).
  if (live && existing->nuid != nuid && !existing->nuid.empty()) {
    (void)Purge(c, ChunkSubject(existing->nuid));
  }
  return Status::Ok();
}

Status NatsClient::PutRetrying(const std::string& name,
                               std::optional<TimePoint> created,
                               base::Reader& data, int64_t size) {
  const std::string what = "put " + name + " in " + Describe();
  if (size > opts_.retry_buffer) {
    // Too large to keep: one attempt, streamed (the caller retries).
    auto c = Acquire();
    if (!c.ok()) return c.status();
    Status s = Put(**c, name, created, data, size, std::nullopt, nullptr);
    Release(std::move(*c));
    return s;
  }
  std::string body(static_cast<size_t>(size), '\0');
  Status read =
      data.ReadFull({reinterpret_cast<uint8_t*>(body.data()), body.size()})
          .WithContext(what + ": reading data");
  if (!read.ok()) {
    return read.code() == base::Code::kCorrupt
               ? base::InvalidArgumentError(read.message())
               : read;
  }
  uint8_t extra;
  LK_ASSIGN_OR_RETURN(size_t more, data.Read({&extra, 1}));
  if (more != 0) {
    return base::InvalidArgumentError(what + ": data is longer than " +
                                      std::to_string(size) + " bytes");
  }
  return WithConn(what, [&](Conn& c) {
    base::SpanReader r(
        {reinterpret_cast<const uint8_t*>(body.data()), body.size()});
    return Put(c, name, created, r, size, std::nullopt, nullptr);
  });
}

Status NatsClient::Delete(Conn& c, const std::string& name) {
  const std::string what = "delete " + name + " in " + Describe();
  LK_ASSIGN_OR_RETURN(std::optional<Meta> existing, GetMeta(c, name));
  if (!existing || existing->deleted) return Status::Ok();
  ojson meta = ojson::parse(existing->raw, nullptr, false);
  if (!meta.is_object()) {
    return base::CorruptError(what + ": unreadable meta message");
  }
  meta["size"] = 0;
  meta["mtime"] = "0001-01-01T00:00:00Z";
  meta["chunks"] = 0;
  meta.erase("digest");
  meta["deleted"] = true;
  auto m = c.Request(MetaSubject(name), EncodeHeaders({{"Nats-Rollup", "sub"}}),
                     meta.dump());
  if (!m.ok()) {
    Count(Kind::kDel, true);
    return m.status();
  }
  auto ack = CheckAck(*m, what);
  Count(Kind::kDel, !ack.ok());
  if (!ack.ok()) return ack.status();
  if (existing->nuid.empty()) return Status::Ok();
  return Purge(c, ChunkSubject(existing->nuid));
}

Result<VersionedObject> NatsClient::ReadVersioned(const std::string& key) {
  VersionedObject out;
  LK_RETURN_IF_ERROR(
      WithConn("get " + key + " in " + Describe(), [&](Conn& c) -> Status {
        LK_ASSIGN_OR_RETURN(std::optional<Meta> meta, GetMeta(c, key));
        if (!meta || meta->deleted) {
          return base::NotFoundError("get " + key + " in " + Describe() +
                                     ": no such object");
        }
        if (meta->size > (1 << 20)) {
          return base::CorruptError("get " + key + " in " + Describe() +
                                    ": larger than 1 MiB");
        }
        out.version = std::to_string(meta->seq);
        auto r = NewChunkReader(this, *meta, 0, -1);
        out.data.clear();
        uint8_t buf[64 << 10];
        for (;;) {
          LK_ASSIGN_OR_RETURN(size_t n, r->Read({buf, sizeof buf}));
          if (n == 0) break;
          out.data.append(reinterpret_cast<const char*>(buf), n);
        }
        return Status::Ok();
      }));
  return out;
}

Result<std::string> NatsClient::WriteIf(const std::string& key,
                                        const std::string& data,
                                        const std::string& if_version) {
  uint64_t expect = 0;
  if (!if_version.empty()) {
    auto v = base::ParseInt(if_version);
    if (!v.ok() || *v <= 0) {
      return base::InvalidArgumentError("replace " + key + " in " + Describe() +
                                        ": version \"" + if_version +
                                        "\" is not a sequence");
    }
    expect = static_cast<uint64_t>(*v);
  }
  uint64_t seq = 0;
  LK_RETURN_IF_ERROR(WithConn("put " + key + " in " + Describe(), [&](Conn& c) {
    base::SpanReader r(
        {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
    return Put(c, key, std::nullopt, r, static_cast<int64_t>(data.size()),
               expect, &seq);
  }));
  return std::to_string(seq);
}

}  // namespace litekeep::storage::nats
