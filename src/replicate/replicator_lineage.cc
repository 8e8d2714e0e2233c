// Replicator's lineage guard: the start-up decision whether the database
// descends from the replica's newest state, and the per-sync check that the
// database path still names the file that was opened (docs/architecture.md,
// "Lineage guard").
#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <ctime>

#include "ltx/file_name.h"
#include "replicate/replicator.h"
#include "sqlite/wal.h"

namespace litekeep::replicate {
namespace {

std::string FormatTime(TimePoint t) {
  const std::time_t secs =
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
          .count();
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// True when the WAL still continues exactly from the replicated position
// (same generation, valid frames up to pos.offset): the database is the file
// that was being replicated.
bool WalContinues(const std::string& db_path, const Position& pos) {
  auto wal = base::File::Open(db_path + "-wal", O_RDONLY);
  if (!wal.ok()) return false;
  auto h = sqlite::ReadWalHeader(*wal);
  if (!h.ok() || !pos.SameGeneration(*h)) return false;
  return sqlite::ScanWal(*wal, *h, pos.offset, pos.checksum).ok();
}

}  // namespace

Status Replicator::CheckLineage(const ReplicaTip& tip) {
  const std::string& db = options_.db_path;
  const std::string desc = replica_->Describe();
  LK_ASSIGN_OR_RETURN(identity_, IdentifyFd(db_file_.fd()));
  std::string why;  // why this database continues the replica's history
  if (tip.txid == 0) {
    why = "the replica is empty";
  } else {
    auto rec = LoadLineage(options_.meta_dir);
    if (rec && rec->file == identity_ && rec->replica == desc) {
      if (rec->source == "restore") {
        if (rec->txid == tip.txid) {
          why = "it was restored from TXID " + ltx::FormatTxId(tip.txid);
        }
      } else {
        // One upload may have landed after the last saved position.
        const TxId t = std::max(rec->txid, pos_ ? pos_->txid : 0);
        if (tip.txid <= t + 1) why = "this replicator was writing it";
      }
    }
    if (why.empty() && pos_ && pos_->txid == tip.txid &&
        WalContinues(db, *pos_)) {
      why = "its WAL continues the replicated position";
    }
  }
  int64_t local_size = -1;
  if (why.empty()) {
    auto local = LocalImageChecksum(db_file_, db, &local_size);
    std::optional<uint64_t> remote = tip.checksum;
    if (local.ok() && !remote && options_.replica_state_checksum) {
      auto r = options_.replica_state_checksum(*replica_, tip.txid);
      if (!r.ok()) {
        return r.status().WithContext("lineage guard: compare " + db +
                                      " with the newest state of " + desc);
      }
      remote = *r;
    }
    if (local.ok() && remote && *local == *remote) {
      why = "it is byte-for-byte the replica's newest state";
    }
    if (!local.ok()) {
      spdlog::warn("{}: cannot compute the database checksum: {}", db,
                   local.status().message());
    }
  }
  if (why.empty()) {
    if (local_size < 0) {
      auto size = db_file_.Size();
      local_size = size.ok() ? *size : 0;
    }
    if (!options_.new_history) {
      SetBlocked("lineage");
      return base::FailedPreconditionError(
          "lineage guard: database " + db +
          " does not descend from the newest state of replica " + desc +
          " (TXID " + ltx::FormatTxId(tip.txid) + ", written " +
          FormatTime(tip.file.created) + ", " + std::to_string(tip.db_size()) +
          " bytes); the local database (" + std::to_string(local_size) +
          " bytes) is a different or older database, and replicating it "
          "would bury the backup. Nothing was uploaded. To keep the backup, "
          "stop the application and run `litekeep restore -force -o " +
          db + " " + desc +
          "`, then start again; to start a new history on purpose, run "
          "replicate with -new-history (config key new-history: true)");
    }
    spdlog::warn(
        "{}: starting a new history in {} on purpose (-new-history): the "
        "previous history ends at TXID {} ({}); retention is held for this "
        "database so that state stays restorable with `litekeep restore "
        "-txid {}` until {}/history-hold.json is removed",
        db, desc, ltx::FormatTxId(tip.txid), FormatTime(tip.file.created),
        ltx::FormatTxId(tip.txid), options_.meta_dir);
    LK_RETURN_IF_ERROR(SaveHistoryHold(options_.meta_dir, tip.txid, desc));
    pos_.reset();  // the first sync writes a snapshot as the next TXID
    why = "a new history was asked for";
  }
  spdlog::debug("{}: continues the history of {}: {}", db, desc, why);
  LineageRecord rec;
  rec.replica = desc;
  rec.txid = std::max(tip.txid, pos_ ? pos_->txid : 0);
  rec.file = identity_;
  rec.source = "replicate";
  LK_RETURN_IF_ERROR(SaveLineage(options_.meta_dir, rec));
  SetBlocked("");
  return Status::Ok();
}

Status Replicator::CheckSameFile() {
  const std::string& db = options_.db_path;
  auto now = IdentifyPath(db);
  if (!now.ok()) {
    if (now.status().code() != base::Code::kNotFound) return now.status();
    SetBlocked("db_deleted");
    return base::FailedPreconditionError(
        "database " + db +
        " was deleted while litekeep was replicating it; nothing more is "
        "uploaded (the replica keeps TXID " +
        ltx::FormatTxId(replicated_txid()) +
        "). Restore it with `litekeep restore`, or restart litekeep once a "
        "database is back");
  }
  if (!(*now == identity_)) {
    SetBlocked("db_replaced");
    return base::FailedPreconditionError(
        "database " + db +
        " was replaced by another file while litekeep was replicating it "
        "(inode " +
        std::to_string(identity_.ino) + " became " + std::to_string(now->ino) +
        "); nothing from the new file is uploaded, so the replica never mixes "
        "two files' pages. Restart litekeep to apply the lineage guard "
        "(`litekeep restore`, or -new-history)");
  }
  return Status::Ok();
}

}  // namespace litekeep::replicate
