// The backend table: every replica type litekeep knows (built or not), the
// URL schemes and `type:` spellings that name it, the setting keys it uses,
// and how it turns ReplicaSettings into a ReplicaClient. The only place that
// knows the concrete backends; config validation and the VFS both ask it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/replica_client.h"
#include "storage/settings.h"

namespace litekeep::storage {

struct Backend {
  std::string_view type;                // canonical type name ("s3")
  std::vector<std::string_view> names;  // schemes and type spellings
  std::vector<std::string_view> keys;   // setting keys it uses (settings.h)
  // Checks and completes settings (required fields, defaults, values) without
  // touching the network or the environment. Null when not built.
  base::Status (*check)(ReplicaSettings* settings) = nullptr;
  // Creates the client from checked settings. Null when not built.
  Result<std::unique_ptr<ReplicaClient>> (*open)(
      const ReplicaSettings& settings) = nullptr;

  bool built() const { return open != nullptr; }
  bool Uses(std::string_view key) const;
};

// Every backend, built ones first.
const std::vector<Backend>& Backends();

// The built backend a type name or URL scheme names (any case). Errors:
// kUnimplemented for a known backend that is not built ("… not built in this
// litekeep; supported: file, s3, abs, sftp"), kInvalidArgument for an unknown name
// (with a suggestion). Messages do not name the context (the caller does).
Result<const Backend*> FindBuiltBackend(std::string_view name);

// "file, s3, abs, sftp": the built backends, for messages.
std::string SupportedBackendsText();

// Checks settings with their backend's check (settings->type names it; empty
// means file).
base::Status CheckSettings(ReplicaSettings* settings);

// Checks the settings and creates the client for their backend.
Result<std::unique_ptr<ReplicaClient>> NewReplicaClient(
    ReplicaSettings settings);

}  // namespace litekeep::storage
