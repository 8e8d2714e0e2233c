// The replica keys of Litestream 0.3 and 0.5 that litekeep knows: how each
// is parsed, which ReplicaConfig member it fills, and which may also appear
// at the top level as a default for every replica.
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/internal.h"
#include "config/yaml_walk.h"
#include "storage/settings.h"

namespace litekeep::config {
namespace internal {
namespace {

using K = KeyKind;
using R = ReplicaConfig;

std::vector<ReplicaKey> BuildTable() {
  const bool kTop = true;
  const bool kLocal = false;
  std::vector<ReplicaKey> keys = {
      // Destination (0.3 and 0.5).
      {"type", K::kString, &R::type, kLocal},
      {"name", K::kString, &R::name, kLocal},
      {"url", K::kString, &R::url, kLocal},
      // Timing. sync-interval and validation-interval: 0.3 and 0.5;
      // retention, retention-check-interval, snapshot-interval: 0.3.
      {"sync-interval", K::kDuration, &R::sync_interval, kTop},
      {"validation-interval", K::kOptDuration, &R::validation_interval, kTop},
      // litekeep's alias of validation-interval (docs/config.md, "Replica
      // keys").
      {"verify-interval", K::kOptDuration, &R::validation_interval, kTop},
      {"retention", K::kOptDuration, &R::retention, kTop},
      {"retention-check-interval", K::kOptDuration,
       &R::retention_check_interval, kTop},
      {"snapshot-interval", K::kOptDuration, &R::snapshot_interval, kTop},
      // Litestream 0.5 keys litekeep refuses (docs/migrating.md, "Refused
      // keys"): accepting them would change nothing.
      {"max-sync-ltx-files", K::kRejected, {}, kTop},
      // litekeep always recovers from missing or damaged local state;
      // docs/config.md, "Replica keys".
      {"auto-recover", K::kOptBool, &R::auto_recover, kTop},
      // litekeep: LTX page encoding for readers older than Litestream
      // 0.5.16 (docs/config.md, "Replica keys").
      {"page-encoding", K::kPageEncoding, &R::page_encoding, kTop},
      // litekeep: the replica lease's time to live, 0 = no lease
      // (docs/architecture.md, "Replica lease").
      {"lease-ttl", K::kOptDuration, &R::lease_ttl, kTop},
      // Client-side age encryption (0.3; refused by 0.5): a map of
      // recipients and identities (docs/encryption.md).
      {"age", K::kAge, {}, kTop},
  };
  // Where the replica lives: the storage settings (storage/settings.h),
  // also allowed at the top level as defaults, except the path.
  for (const storage::SettingKey& s : storage::SettingKeys()) {
    keys.push_back({s.name, K::kStorage, {}, s.name != "path"});
  }
  return keys;
}

template <typename T>
T& Member(ReplicaConfig* r, const ReplicaField& f) {
  return r->*std::get<T ReplicaConfig::*>(f);
}

}  // namespace

const std::vector<ReplicaKey>& ReplicaKeys() {
  static const std::vector<ReplicaKey>* table =
      new std::vector<ReplicaKey>(BuildTable());
  return *table;
}

const ReplicaKey* FindReplicaKey(std::string_view name) {
  for (const ReplicaKey& key : ReplicaKeys()) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

Status SetReplicaValue(const ReplicaKey& key, std::string_view text,
                       ReplicaConfig* replica) {
  switch (key.kind) {
    case K::kString:
      Member<std::string>(replica, key.field) = std::string(text);
      return Status::Ok();
    case K::kStorage:
      return storage::SetSetting(*storage::FindSetting(key.name), text,
                                 replica);
    case K::kOptBool: {
      LK_ASSIGN_OR_RETURN(bool v, ParseBool(text));
      Member<std::optional<bool>>(replica, key.field) = v;
      return Status::Ok();
    }
    case K::kDuration:
    case K::kOptDuration: {
      LK_ASSIGN_OR_RETURN(Duration d, ParseDuration(text));
      if (d.count() < 0) {
        return base::InvalidArgumentError("must not be negative, got \"" +
                                          std::string(text) + "\"");
      }
      if (key.kind == K::kDuration) {
        // sync-interval 0 is litekeep's wake-on-change mode (sync as soon
        // as the WAL is written).
        if (d.count() == 0 && key.name != "sync-interval") {
          return base::InvalidArgumentError("must be greater than 0");
        }
        Member<Duration>(replica, key.field) = d;
      } else {
        Member<std::optional<Duration>>(replica, key.field) = d;
      }
      return Status::Ok();
    }
    case K::kOptCount: {
      LK_ASSIGN_OR_RETURN(int64_t v, ParseInt(text));
      if (v < 0) {
        return base::InvalidArgumentError("must not be negative, got " +
                                          std::to_string(v));
      }
      Member<std::optional<int64_t>>(replica, key.field) = v;
      return Status::Ok();
    }
    case K::kPageEncoding: {
      LK_ASSIGN_OR_RETURN(ltx::PageEncoding e, ltx::ParsePageEncoding(text));
      Member<std::optional<ltx::PageEncoding>>(replica, key.field) = e;
      return Status::Ok();
    }
    case K::kRejected:
      return base::UnimplementedError(
          "not implemented in litekeep (each sync uploads one L0 file); "
          "remove it; see docs/migrating.md");
    case K::kAge:
      return base::InvalidArgumentError(
          "expected a map with recipients and/or identities");
  }
  return base::InternalError("unhandled key kind");
}

void CopyReplicaValue(const ReplicaKey& key, const ReplicaConfig& from,
                      ReplicaConfig* to) {
  if (key.kind == K::kStorage) {
    storage::CopySetting(*storage::FindSetting(key.name), from, to);
    return;
  }
  if (key.kind == K::kAge) {
    to->age = from.age;
    to->age_recipients = from.age_recipients;
    to->age_identities = from.age_identities;
    return;
  }
  std::visit(
      [&](auto member) {
        if constexpr (!std::is_same_v<decltype(member), std::monostate>) {
          to->*member = from.*member;
        }
      },
      key.field);
}

// Each list item may hold several keys, one a line, with '#' comments (as
// Litestream 0.3 reads them); environment variables are expanded before.
Status ReadAgeEntry(const Walker& w, const Entry& e, ReplicaConfig* replica) {
  if (e.value.IsNull()) return Status::Ok();
  if (!e.value.IsMap()) {
    return w.Error(e.line, e.written +
                               ": expected a map with recipients and/or "
                               "identities (docs/encryption.md)");
  }
  LK_ASSIGN_OR_RETURN(auto entries, w.Entries(e.value, e.line, "age",
                                              {"recipients", "identities"}));
  replica->age = true;
  for (const Entry& sub : entries) {
    std::vector<std::string> items;
    if (sub.value.IsSequence()) {
      for (const YAML::Node& item : sub.value) {
        if (!item.IsScalar()) {
          return w.Error(sub.line, e.written + "." + sub.written +
                                       ": expected a list of keys");
        }
        items.push_back(item.Scalar());
      }
    } else if (sub.value.IsScalar()) {
      items.push_back(sub.value.Scalar());
    } else if (!sub.value.IsNull()) {
      return w.Error(sub.line, e.written + "." + sub.written +
                                   ": expected a list of keys");
    }
    for (const std::string& item : items) {
      Status st;
      if (sub.key == "identities") {
        auto ids = base::ParseAgeIdentities(item);
        st = ids.status();
        if (ids.ok()) {
          replica->age_identities.insert(replica->age_identities.end(),
                                         ids->begin(), ids->end());
        }
      } else {
        auto rs = base::ParseAgeRecipients(item);
        st = rs.status();
        if (rs.ok()) {
          replica->age_recipients.insert(replica->age_recipients.end(),
                                         rs->begin(), rs->end());
        }
      }
      if (!st.ok()) {
        return w.Error(sub.line,
                       e.written + "." + sub.written + ": " + st.message());
      }
    }
  }
  if (replica->age_recipients.empty() && replica->age_identities.empty()) {
    return w.Error(e.line, e.written +
                               ": needs recipients (to write) and/or "
                               "identities (to read); see docs/encryption.md");
  }
  return Status::Ok();
}

}  // namespace internal

void ApplyReplicaDefaults(const Config& config, ReplicaConfig* replica) {
  const ReplicaConfig& d = config.replica_defaults;
  auto fill = [](std::string& field, const std::string& value) {
    if (field.empty()) field = value;
  };
  // Storage settings the replica does not have (strings: empty).
  for (const storage::SettingKey& key : storage::SettingKeys()) {
    if (key.kind != storage::SettingKind::kString &&
        key.kind != storage::SettingKind::kSecret) {
      continue;
    }
    if (key.name == "path" || key.name == "bucket") continue;
    auto member = std::get<std::string storage::ReplicaSettings::*>(key.field);
    fill(replica->*member, d.*member);
  }
  if (d.skip_verify) replica->skip_verify = true;
  if (replica->root_cas.empty()) replica->root_cas = d.root_cas;
  if (!replica->tls) replica->tls = d.tls;
  // URLs cannot carry a sync interval: a replica still at the default takes
  // the configured one.
  if (replica->sync_interval == ReplicaConfig().sync_interval) {
    replica->sync_interval = d.sync_interval;
  }
  if (!replica->retention) replica->retention = config.retention;
  if (!replica->retention_check_interval) {
    replica->retention_check_interval = config.retention_check_interval;
  }
  if (!replica->snapshot_interval) {
    replica->snapshot_interval = config.snapshot_interval;
  }
  if (!replica->validation_interval) {
    replica->validation_interval = config.validation_interval;
  }
  if (!replica->lease_ttl) replica->lease_ttl = d.lease_ttl;
}

}  // namespace litekeep::config
