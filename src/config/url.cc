// Replica URLs for the config API: storage::ParseReplicaUrl into a
// ReplicaConfig, and printing a replica without its secrets.
#include "storage/url.h"

#include "config/config.h"
#include "config/internal.h"

namespace litekeep::config {

Result<ReplicaConfig> ParseReplicaUrl(std::string_view url) {
  LK_ASSIGN_OR_RETURN(storage::ReplicaSettings settings,
                      storage::ParseReplicaUrl(url));
  ReplicaConfig r;
  static_cast<storage::ReplicaSettings&>(r) = std::move(settings);
  return r;
}

std::string Redacted(const ReplicaConfig& r) { return storage::Describe(r); }

std::string ReplicaName(const ReplicaConfig& r) {
  return r.name.empty() ? r.type : r.name;
}

}  // namespace litekeep::config
