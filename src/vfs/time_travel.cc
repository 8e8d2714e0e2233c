// The VFS's PRAGMAs: litekeep_txid and litekeep_time read or pin the
// version SQLite reads (time travel), or return to the live one;
// litekeep_stats is answered by vfs/stats.cc.
#include <cctype>

#include "base/rfc3339.h"
#include "ltx/file_name.h"
#include "vfs/database.h"

namespace litekeep::vfs {
namespace {

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsLive(const std::string& v) {
  std::string s = Lower(v);
  return s.empty() || s == "live" || s == "now" || s == "latest" ||
         s == "reset";
}

}  // namespace

std::optional<Result<std::string>> Database::Pragma(const std::string& name,
                                                    const char* value) {
  std::string n = Lower(name);
  if (n == "litekeep_stats") return Result<std::string>(Stats());
  if (n != "litekeep_time" && n != "litekeep_txid") return std::nullopt;
  if (value == nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    // Inside a transaction: what it reads; else what the next one will read.
    PokeIfIdleLocked();
    const auto& v = lock_ != LockLevel::kNone || options_.write_enabled
                        ? current_
                        : (pinned_ ? pinned_ : live_);
    if (n == "litekeep_txid")
      return Result<std::string>(ltx::FormatTxId(v->txid));
    if (v->files.empty()) return Result<std::string>(std::string());
    return Result<std::string>(base::FormatRfc3339(
        TimePoint(std::chrono::milliseconds(v->files.back()->timestamp_ms))));
  }
  if (options_.write_enabled) {
    return Result<std::string>(base::FailedPreconditionError(
        "litekeep vfs: " + n + " is not available in write mode"));
  }
  if (IsLive(value)) {
    std::lock_guard<std::mutex> lock(mu_);
    pinned_ = nullptr;
    poke_ = true;
    cv_.notify_all();
    return Result<std::string>(std::string("live"));
  }
  Result<std::shared_ptr<const Version>> v = base::InternalError("unset");
  if (n == "litekeep_txid") {
    auto txid = ltx::ParseTxId(value);
    if (!txid.ok()) return Result<std::string>(txid.status());
    v = BuildVersion(*txid, std::nullopt);
  } else {
    auto when = ParseTimeSpec(value, Clock::now());
    if (!when.ok()) return Result<std::string>(when.status());
    // The exact creation times (S3: one HEAD per file, remembered).
    client_->SetCreatedTimes(storage::CreatedTimes::kExact);
    v = BuildVersion(std::nullopt, *when);
    client_->SetCreatedTimes(storage::CreatedTimes::kListed);
  }
  if (!v.ok()) return Result<std::string>(v.status());
  std::lock_guard<std::mutex> lock(mu_);
  pinned_ = *v;
  return Result<std::string>(ltx::FormatTxId(pinned_->txid));
}

}  // namespace litekeep::vfs
