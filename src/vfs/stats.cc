// PRAGMA litekeep_stats: the VFS's versions, requests, cache, hydration
// and write-mode counters as one line of name=value fields.
#include "ltx/file_name.h"
#include "vfs/database.h"

namespace litekeep::vfs {

std::string Database::Stats() {
  auto rc = client_->request_counts();
  std::lock_guard<std::mutex> lock(mu_);
  std::string s;
  s += "txid=" + ltx::FormatTxId(current_->txid);
  s += " live_txid=" + ltx::FormatTxId(live_->txid);
  s += " pinned=" + std::string(pinned_ ? "1" : "0");
  s += " page_size=" + std::to_string(current_->page_size);
  s += " pages=" + std::to_string(current_->commit);
  s += " files=" + std::to_string(current_->files.size());
  s += " get=" + std::to_string(rc.get);
  s += " list=" + std::to_string(rc.list);
  s += " head=" + std::to_string(rc.head);
  s += " put=" + std::to_string(rc.put);
  s += " cache_hits=" + std::to_string(cache_.hits());
  s += " cache_misses=" + std::to_string(cache_.misses());
  s += " cache_bytes=" + std::to_string(cache_.bytes());
  s += " hydrated=" + std::string(hydrated_ ? "1" : "0");
  s += " hydrated_txid=" + ltx::FormatTxId(hydrated_txid_);
  s += " hydration_error=\"" + hydration_error_.message() + "\"";
  s += " dirty_pages=" + std::to_string(dirty_.size());
  s += " syncs=" + std::to_string(syncs_);
  s += " write_error=\"" + write_error_.message() + "\"";
  s += " poll_error=\"" + poll_error_.message() + "\"";
  return s;
}

}  // namespace litekeep::vfs
