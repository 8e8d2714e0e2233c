// Listing the object store: an ephemeral push consumer on $O.<bucket>.M.>
// that delivers the newest meta message per subject (deliver policy
// last_per_subject, no acks), read until the server says none are pending,
// as nats.go's List does with its ordered consumer. One JetStream request
// per listing, whatever the number of objects.
#include <charconv>

#include "storage/nats/client_impl.h"

namespace litekeep::storage::nats {
namespace {

using json = nlohmann::json;

std::vector<std::string_view> Tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    out.push_back(s.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

uint64_t Number(std::string_view text) {
  uint64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// The stream sequence, timestamp (ns) and pending count of a delivery, from
// its $JS.ACK reply subject (v1: 9 tokens; v2: 12 or more).
bool AckFields(std::string_view reply, uint64_t* seq, int64_t* ns,
               uint64_t* pending) {
  auto t = Tokens(reply);
  if (t.size() < 9 || t[0] != "$JS" || t[1] != "ACK") return false;
  const size_t base = t.size() == 9 ? 2 : 4;
  if (t.size() < base + 7) return false;
  *seq = Number(t[base + 3]);
  *ns = static_cast<int64_t>(Number(t[base + 5]));
  *pending = Number(t[base + 6]);
  return true;
}

}  // namespace

Result<std::vector<Meta>> NatsClient::ListMeta(Conn& c) {
  const std::string what = "list " + Describe();
  const std::string deliver = c.NewReply() + ".list";
  LK_ASSIGN_OR_RETURN(uint64_t sid, c.Subscribe(deliver));
  json config = {{"deliver_subject", deliver},
                 {"deliver_policy", "last_per_subject"},
                 {"ack_policy", "none"},
                 {"replay_policy", "instant"},
                 {"filter_subject", "$O." + opts_.bucket + ".M.>"},
                 {"mem_storage", true},
                 {"num_replicas", 1},
                 {"inactive_threshold", int64_t{60} * 1000000000}};
  json body = {{"stream_name", Stream()}, {"config", config}};
  std::vector<Msg> early;
  auto reply =
      c.Request("$JS.API.CONSUMER.CREATE." + Stream(), "", body.dump(), &early);
  if (!reply.ok()) {
    Count(Kind::kList, true);
    return reply.status();
  }
  if (reply->status == 503) {
    Count(Kind::kList, true);
    return base::FailedPreconditionError(
        what + ": " + Describe() +
        " has no JetStream (no responders); start nats-server with -js");
  }
  json created = json::parse(reply->data, nullptr, false);
  if (!created.is_object()) {
    Count(Kind::kList, true);
    return base::UnavailableError(what + ": unreadable JetStream answer");
  }
  if (auto e = created.find("error"); e != created.end() && e->is_object()) {
    Count(Kind::kList, true);
    return ApiError(*e, what);
  }
  Count(Kind::kList, false);
  const std::string consumer = created.value("name", std::string());
  uint64_t remaining = created.value("num_pending", uint64_t{0});

  std::vector<Meta> out;
  size_t next_early = 0;
  bool done = remaining == 0 && early.empty();
  while (!done) {
    Msg m;
    if (next_early < early.size()) {
      m = std::move(early[next_early++]);
    } else {
      LK_ASSIGN_OR_RETURN(m, c.Next());
    }
    if (m.sid != sid) continue;
    uint64_t seq = 0, pending = 0;
    int64_t ns = 0;
    if (!AckFields(m.reply, &seq, &ns, &pending)) {
      // A status message (idle heartbeat, flow control) has no body.
      continue;
    }
    Meta meta;
    if (ParseMeta(m.data, &meta)) {
      meta.seq = seq;
      meta.modified = TimePoint(std::chrono::duration_cast<TimePoint::duration>(
          std::chrono::nanoseconds(ns)));
      if (!meta.deleted && !meta.link) out.push_back(std::move(meta));
    }
    done = pending == 0;
  }
  (void)c.Unsubscribe(sid);
  if (!consumer.empty()) {
    // Not waited for: an ephemeral consumer without interest also expires.
    (void)c.Publish("$JS.API.CONSUMER.DELETE." + Stream() + "." + consumer,
                    c.NewReply(), "", "");
  }
  return out;
}

}  // namespace litekeep::storage::nats
