// The VFS's hydration: a background restore of the live version into a
// local file, from which reads of files it covers are then served.
#include <fcntl.h>

#include "ltx/file_name.h"
#include "restore/executor.h"
#include "vfs/database.h"

namespace litekeep::vfs {

void Database::Hydrate() {
  std::shared_ptr<const Version> v;
  {
    std::lock_guard<std::mutex> lock(mu_);
    v = live_;
  }
  if (v->files.empty()) return;
  restore::Plan plan;
  for (const auto& f : v->files) {
    plan.files.push_back(f->info);
    plan.total_bytes += f->info.size;
  }
  plan.txid = v->txid;
  restore::ExecuteOptions eo;
  eo.output = options_.hydration_path;
  eo.force = true;
  eo.integrity = restore::IntegrityCheck::kNone;
  auto r = restore::Execute(*client_, plan, eo);
  Result<base::File> f =
      r.ok() ? base::File::Open(options_.hydration_path, O_RDONLY)
             : Result<base::File>(r.status());
  std::lock_guard<std::mutex> lock(mu_);
  if (!f.ok()) {
    Log(LogLevel::kError, "hydration failed: " + f.status().ToString());
    return;
  }
  hydrated_ = std::make_shared<base::File>(std::move(*f));
  hydrated_txid_ = v->txid;
  Log(LogLevel::kInfo, "hydrated " + options_.hydration_path + " at TXID " +
                           ltx::FormatTxId(v->txid));
}

}  // namespace litekeep::vfs
