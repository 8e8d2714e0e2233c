// Syncer: list, compare with the state file, download in parallel, delete,
// save the state (docs/sync.md, "How a pass works").
#include "sync/syncer.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

namespace litekeep::sync {
namespace {

constexpr int kStateVersion = 1;

std::string BaseOf(const std::string& key) {
  size_t slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

double NowSeconds() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Writes text to path through a private temporary file in the same
// directory (mkstemp), fsync, rename.
Status WriteAtomic(const std::string& path, const std::string& text) {
  std::string tmpl = path + ".XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    return base::ErrnoError("create temporary file for " + path, errno);
  base::File file(fd, tmpl);
  Status s = file.WriteAll(text.data(), text.size());
  if (s.ok()) s = file.Sync();
  if (s.ok()) s = file.Close();
  if (s.ok() && ::rename(tmpl.c_str(), path.c_str()) != 0) {
    s = base::ErrnoError("rename " + tmpl + " to " + path, errno);
  }
  if (!s.ok()) ::unlink(tmpl.c_str());
  return s;
}

}  // namespace

Syncer::Syncer(std::unique_ptr<storage::ObjectStore> store, SyncOptions options)
    : store_(std::move(store)),
      options_(std::move(options)),
      filter_(options_.include, options_.exclude),
      tree_(options_.dest) {}

Result<std::unique_ptr<Syncer>> Syncer::Create(
    std::unique_ptr<storage::ObjectStore> store, SyncOptions options) {
  if (options.dest.empty()) {
    return base::InvalidArgumentError("sync: no destination directory");
  }
  while (options.dest.size() > 1 && options.dest.back() == '/') {
    options.dest.pop_back();
  }
  for (const auto* list : {&options.include, &options.exclude}) {
    for (const auto& p : *list) LK_RETURN_IF_ERROR(CheckGlob(p));
  }
  if (options.max_size < 0 || options.max_total_size < 0) {
    return base::InvalidArgumentError("sync: size limits must not be negative");
  }
  if (options.interval.count() <= 0) {
    return base::InvalidArgumentError("sync: interval must be positive");
  }
  options.max_interval = std::max(options.max_interval, options.interval);
  options.parallelism = std::clamp(options.parallelism, 1, 64);
  if (options.state_path.empty()) {
    options.state_path = options.dest + "/.litekeep-sync.json";
  }
  std::unique_ptr<Syncer> s(new Syncer(std::move(store), std::move(options)));
  LK_RETURN_IF_ERROR(s->tree_.Init());
  const std::string prefix = s->options_.dest + "/";
  if (s->options_.state_path.compare(0, prefix.size(), prefix) == 0) {
    s->state_rel_ = s->options_.state_path.substr(prefix.size());
  }
  LK_RETURN_IF_ERROR(s->LoadState());
  return s;
}

Status Syncer::LoadState() {
  std::ifstream in(options_.state_path, std::ios::binary);
  if (!in) return Status::Ok();  // first run
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() ||
      j.value("version", 0) != kStateVersion) {
    spdlog::warn("sync: state file {} is unreadable; comparing files anew",
                 options_.state_path);
    return Status::Ok();
  }
  if (j.value("source", std::string()) != store_->Describe()) {
    spdlog::info("sync: state file {} belongs to {}; starting anew",
                 options_.state_path, j.value("source", std::string()));
    return Status::Ok();
  }
  const auto objects = j.find("objects");
  if (objects == j.end() || !objects->is_object()) return Status::Ok();
  for (const auto& [key, v] : objects->items()) {
    if (!v.is_object()) continue;
    Entry e;
    e.etag = v.value("etag", std::string());
    e.size = v.value("size", int64_t{0});
    e.modified_ns = v.value("mtime_ns", int64_t{0});
    state_[key] = std::move(e);
  }
  return Status::Ok();
}

Status Syncer::SaveState() {
  nlohmann::json objects = nlohmann::json::object();
  for (const auto& [key, e] : state_) {
    objects[key] = {
        {"etag", e.etag}, {"size", e.size}, {"mtime_ns", e.modified_ns}};
  }
  nlohmann::json j = {{"version", kStateVersion},
                      {"source", store_->Describe()},
                      {"objects", std::move(objects)}};
  return WriteAtomic(options_.state_path, j.dump() + "\n");
}

std::string Syncer::RefuseReason(const std::string& key) const {
  if (key.empty()) return "empty name";
  if (key.front() == '/') return "name starts with '/'";
  if (key.find('\0') != std::string::npos) return "name contains a NUL byte";
  size_t start = 0;
  for (;;) {
    size_t slash = key.find('/', start);
    std::string_view part(
        key.data() + start,
        (slash == std::string::npos ? key.size() : slash) - start);
    if (part.empty()) return "name has an empty path component ('//')";
    if (part == "..") return "name contains '..'";
    if (part == ".") return "name contains a '.' component";
    if (part.size() > 255) return "a path component is longer than 255 bytes";
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (!state_rel_.empty() && key == state_rel_) {
    return "name collides with the state file";
  }
  if (BaseOf(key).starts_with(kTempPrefix)) {
    return "name collides with litekeep's temporary files";
  }
  return "";
}

Result<PassStats> Syncer::Pass(const ProgressFn& progress) {
  PassStats stats;
  auto fail_pass = [&](Status s) {
    std::lock_guard<std::mutex> lock(totals_mu_);
    ++totals_.passes;
    ++totals_.errors;
    totals_.requests = store_->request_counts();
    return s;
  };

  // 1. List.
  std::vector<storage::StoredObject> listed;
  Status ls = store_->List([&](std::vector<storage::StoredObject>&& page) {
    for (auto& o : page) listed.push_back(std::move(o));
    return Status::Ok();
  });
  if (!ls.ok()) return fail_pass(ls);

  // 2. Select.
  std::vector<const storage::StoredObject*> selected;
  std::set<std::string> listed_keys;
  for (const auto& o : listed) {
    listed_keys.insert(o.key);
    if (o.key.empty() || o.key.back() == '/') continue;  // directory marker
    if (!filter_.Selects(o.key)) {
      ++stats.excluded;
      continue;
    }
    std::string reason = RefuseReason(o.key);
    if (reason.empty() && o.symlink) reason = "a symbolic link";
    if (reason.empty() && options_.max_size > 0 && o.size > options_.max_size) {
      reason = std::to_string(o.size) + " bytes, over -max-size " +
               std::to_string(options_.max_size);
    }
    if (!reason.empty()) {
      stats.refused.push_back("object \"" + o.key + "\" in " +
                              store_->Describe() + " refused: " + reason);
      continue;
    }
    selected.push_back(&o);
    ++stats.objects;
    stats.bytes += o.size;
  }
  if (options_.max_total_size > 0 && stats.bytes > options_.max_total_size) {
    return fail_pass(base::FailedPreconditionError(
        "sync " + store_->Describe() + ": the tree holds " +
        std::to_string(stats.bytes) + " bytes in " +
        std::to_string(stats.objects) + " objects, over the limit of " +
        std::to_string(options_.max_total_size) +
        " bytes (-max-total-size); nothing was copied"));
  }
  for (const auto& msg : stats.refused) {
    if (warned_.insert(msg).second) spdlog::warn("sync: {}", msg);
  }

  // 3. Compare with the state and the local files.
  std::vector<const storage::StoredObject*> todo;
  std::set<std::string> selected_keys;
  bool state_changed = false;
  int64_t todo_bytes = 0;
  for (const auto* o : selected) {
    selected_keys.insert(o->key);
    const LocalFile local = tree_.Stat(o->key);
    auto it = state_.find(o->key);
    if (it != state_.end() && it->second.etag == o->etag &&
        it->second.size == o->size && local.regular && local.size == o->size &&
        local.mtime_ns == it->second.modified_ns) {
      continue;  // unchanged
    }
    // No record yet, but the file is already here with the object's size
    // and time (e.g. copied by rclone): adopt it.
    const int64_t obj_ns = ToNanos(o->modified);
    if (it == state_.end() && local.regular && local.size == o->size &&
        obj_ns > 0 && std::llabs(local.mtime_ns - obj_ns) < 1000000000) {
      state_[o->key] = Entry{o->etag, o->size, local.mtime_ns};
      state_changed = true;
      continue;
    }
    todo.push_back(o);
    todo_bytes += o->size;
  }

  // 4. Download.
  std::mutex mu;
  std::atomic<size_t> next{0};
  size_t done = 0;
  int64_t done_bytes = 0;
  if (progress) progress(0, todo.size(), 0, todo_bytes);
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < todo.size();) {
      const storage::StoredObject& o = *todo[i];
      Status s;
      auto reader = store_->Open(o.key);
      if (!reader.ok()) {
        s = reader.status();
      } else {
        s = tree_.WriteFile(o.key, **reader, o.size, o.modified);
      }
      std::lock_guard<std::mutex> lock(mu);
      if (s.ok()) {
        LocalFile local = tree_.Stat(o.key);
        state_[o.key] = Entry{o.etag, o.size, local.mtime_ns};
        state_changed = true;
        ++stats.downloaded;
        stats.downloaded_bytes += o.size;
      } else {
        stats.failed.push_back("object \"" + o.key + "\": " + s.message());
        spdlog::error("sync: object \"{}\": {}", o.key, s.message());
      }
      ++done;
      done_bytes += o.size;
      if (progress) progress(done, todo.size(), done_bytes, todo_bytes);
    }
  };
  const size_t threads =
      std::min<size_t>(todo.size(), static_cast<size_t>(options_.parallelism));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  if (!todo.empty()) worker();
  for (auto& t : pool) t.join();

  // 5. Objects that are gone (or no longer selected).
  for (auto it = state_.begin(); it != state_.end();) {
    if (selected_keys.count(it->first)) {
      ++it;
      continue;
    }
    if (options_.delete_extra && !listed_keys.count(it->first) &&
        filter_.Selects(it->first)) {
      Status s = tree_.Remove(it->first);
      if (!s.ok()) {
        stats.failed.push_back(s.message());
        ++it;
        continue;
      }
      ++stats.deleted;
    }
    it = state_.erase(it);
    state_changed = true;
  }

  // 6. The first pass: leftovers of a crash, and with -delete every local
  // file that is not an object (excluded names are kept).
  if (first_pass_ || (options_.delete_extra && state_changed)) {
    std::vector<std::string> remove;
    Status ws = tree_.Walk([&](const std::string& rel) {
      if (rel == state_rel_ || selected_keys.count(rel)) return;
      if (BaseOf(rel).starts_with(kTempPrefix)) {
        if (first_pass_) remove.push_back(rel);
        return;
      }
      if (!state_rel_.empty() && rel.starts_with(state_rel_ + ".")) return;
      if (options_.delete_extra && filter_.Selects(rel) &&
          !listed_keys.count(rel)) {
        remove.push_back(rel);
      }
    });
    if (!ws.ok()) stats.failed.push_back(ws.message());
    for (const auto& rel : remove) {
      Status s = tree_.Remove(rel);
      if (!s.ok()) {
        stats.failed.push_back(s.message());
      } else if (!BaseOf(rel).starts_with(kTempPrefix)) {
        ++stats.deleted;
        spdlog::debug("sync: removed {}/{} (not in {})", options_.dest, rel,
                      store_->Describe());
      }
    }
  }

  // 7. Save the state.
  if (state_changed || first_pass_) {
    Status s = SaveState();
    if (!s.ok()) stats.failed.push_back("state file: " + s.message());
  }
  first_pass_ = false;

  std::lock_guard<std::mutex> lock(totals_mu_);
  ++totals_.passes;
  totals_.objects = stats.objects;
  totals_.bytes = stats.bytes;
  totals_.downloads += stats.downloaded;
  totals_.download_bytes += static_cast<uint64_t>(stats.downloaded_bytes);
  totals_.deletes += stats.deleted;
  totals_.errors += stats.failed.size();
  if (stats.failed.empty()) totals_.last_success = NowSeconds();
  totals_.requests = store_->request_counts();
  return stats;
}

void Syncer::Watch(const std::function<bool(std::chrono::milliseconds)>& wait,
                   const std::function<void(const Result<PassStats>&)>& after) {
  std::chrono::milliseconds interval = options_.interval;
  while (!wait(interval)) {
    Result<PassStats> r = Pass();
    if (after) after(r);
    if (r.ok() && (r->changed() || !r->failed.empty())) {
      interval = options_.interval;
    } else {
      interval = std::min(interval * 2, options_.max_interval);
    }
  }
}

SyncTotals Syncer::totals() const {
  std::lock_guard<std::mutex> lock(totals_mu_);
  return totals_;
}

}  // namespace litekeep::sync
