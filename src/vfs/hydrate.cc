// The VFS's hydration: a background restore of the live version into a
// local file, from which reads of files it covers are then served.
#include <fcntl.h>

#include <algorithm>

#include "ltx/file_name.h"
#include "restore/executor.h"
#include "vfs/database.h"

namespace litekeep::vfs {

void Database::Hydrate() {
  // A failed attempt (a file failed its checks, the store was away) is
  // retried with the then-live version, backing off up to
  // poll_max_interval; nothing of a failed attempt is used.
  std::chrono::milliseconds wait = options_.poll_interval;
  for (;;) {
    std::shared_ptr<const Version> v;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
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
    std::unique_lock<std::mutex> lock(mu_);
    if (f.ok()) {
      hydrated_ = std::make_shared<base::File>(std::move(*f));
      hydrated_txid_ = v->txid;
      hydration_error_ = Status::Ok();
      Log(LogLevel::kInfo, "hydrated " + options_.hydration_path + " at TXID " +
                               ltx::FormatTxId(v->txid));
      return;
    }
    hydration_error_ = f.status();
    Log(LogLevel::kError,
        "hydration failed (retrying): " + f.status().ToString());
    cv_.wait_for(lock, wait, [this] { return stop_; });
    wait = std::min(options_.poll_max_interval, wait * 2);
  }
}

}  // namespace litekeep::vfs
