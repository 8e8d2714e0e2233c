// The VFS's freshness: polling level 0 for new files (backing off while
// idle, woken by active readers) and chaining them onto the live version.
#include <algorithm>

#include "ltx/file_name.h"
#include "storage/fence.h"
#include "storage/file_chain.h"
#include "vfs/database.h"

namespace litekeep::vfs {

void Database::PokeIfIdleLocked() {
  auto now = std::chrono::steady_clock::now();
  if (!options_.write_enabled && !pinned_ &&
      now - last_poll_ >= options_.poll_interval &&
      poll_wait_ > options_.poll_interval) {
    // An active reader: poll soon again even after an idle back-off.
    poke_ = true;
    cv_.notify_all();
  }
}

Status Database::Poll() {
  std::shared_ptr<const Version> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    live = live_;
  }
  LK_ASSIGN_OR_RETURN(auto l0, client_->ListFiles(0));
  TxId newest = 0;
  for (const auto& f : l0) newest = std::max(newest, f.max_txid);
  if (newest == live->txid) return Status::Ok();
  // New files: leave out a stale writer's (docs/architecture.md, "Fencing").
  LK_ASSIGN_OR_RETURN(auto stale,
                      storage::DropStaleFiles(*client_, &l0, live->txid));
  for (const auto& f : stale) {
    Log(LogLevel::kWarn, "skipping " + f.Describe(*client_));
  }
  newest = 0;
  for (const auto& f : l0) newest = std::max(newest, f.max_txid);
  if (newest == live->txid) return Status::Ok();
  std::shared_ptr<const Version> next;
  TxId reached = live->txid;
  auto chain = storage::GreedyChain(l0, live->txid, newest, &reached);
  if (!chain.empty() && reached == newest) {
    LK_ASSIGN_OR_RETURN(auto idx, indexes_->Get(chain));
    LK_ASSIGN_OR_RETURN(next, ApplyFiles(live.get(), idx));
  } else {
    // A gap in L0 (compacted or restarted replica): plan from scratch.
    LK_ASSIGN_OR_RETURN(next, BuildVersion(std::nullopt, std::nullopt));
    if (next->txid == live->txid) return Status::Ok();
  }
  Log(LogLevel::kDebug,
      "replica advanced to TXID " + ltx::FormatTxId(next->txid));
  std::lock_guard<std::mutex> lock(mu_);
  live_ = next;
  poll_wait_ = std::chrono::milliseconds(0);  // reset back-off below
  return Status::Ok();
}

void Database::PollLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, poll_wait_, [this] { return stop_ || poke_; });
    if (stop_) break;
    poke_ = false;
    last_poll_ = std::chrono::steady_clock::now();
    TxId before = live_->txid;
    lock.unlock();
    Status s = Poll();
    lock.lock();
    poll_error_ = s;
    if (!s.ok()) {
      Log(LogLevel::kWarn, "poll failed: " + s.ToString());
    }
    if (live_->txid != before || poke_) {
      poll_wait_ = options_.poll_interval;
    } else {
      // Idle: back off (doubling) so idle readers cost few requests.
      poll_wait_ = std::min(options_.poll_max_interval,
                            std::max(options_.poll_interval, poll_wait_ * 2));
    }
  }
}

}  // namespace litekeep::vfs
