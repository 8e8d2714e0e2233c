// Litestream 0.3 object names and the generation catalog.
#include "restore/legacy/catalog.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace litekeep::restore::legacy {
namespace {

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

uint64_t ParseHex(std::string_view s) {
  uint64_t v = 0;
  for (char c : s)
    v = v * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  return v;
}

}  // namespace

const Generation* Catalog::Find(std::string_view name) const {
  for (const auto& g : generations) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

bool IsGenerationName(std::string_view s) {
  return s.size() == 16 && IsLowerHex(s);
}

std::optional<uint32_t> ParseSnapshotName(std::string_view name) {
  constexpr std::string_view kExt = ".snapshot.lz4";
  if (name.size() != 8 + kExt.size() || !name.ends_with(kExt))
    return std::nullopt;
  std::string_view hex = name.substr(0, 8);
  if (!IsLowerHex(hex)) return std::nullopt;
  return static_cast<uint32_t>(ParseHex(hex));
}

std::optional<std::pair<uint32_t, int64_t>> ParseWalSegmentName(
    std::string_view name) {
  constexpr std::string_view kExt = ".wal.lz4";
  if (name.size() != 17 + kExt.size() || !name.ends_with(kExt) ||
      name[8] != '_') {
    return std::nullopt;
  }
  std::string_view index = name.substr(0, 8), offset = name.substr(9, 8);
  if (!IsLowerHex(index) || !IsLowerHex(offset)) return std::nullopt;
  return std::make_pair(static_cast<uint32_t>(ParseHex(index)),
                        static_cast<int64_t>(ParseHex(offset)));
}

std::string Hex8(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%08llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string SnapshotKey(std::string_view generation, uint32_t index) {
  return std::string(kGenerationsPrefix) + std::string(generation) +
         "/snapshots/" + Hex8(index) + ".snapshot.lz4";
}

std::string WalSegmentKey(std::string_view generation, uint32_t index,
                          int64_t offset) {
  return std::string(kGenerationsPrefix) + std::string(generation) + "/wal/" +
         Hex8(index) + "_" + Hex8(static_cast<uint64_t>(offset)) + ".wal.lz4";
}

Catalog BuildCatalog(const std::vector<storage::ObjectInfo>& objects) {
  std::map<std::string, Generation> gens;
  for (const auto& o : objects) {
    std::string_view key = o.key;
    if (!key.starts_with(kGenerationsPrefix)) continue;
    key.remove_prefix(kGenerationsPrefix.size());
    // <gen>/<dir>/<name>
    size_t a = key.find('/');
    if (a == std::string_view::npos) continue;
    std::string_view gen = key.substr(0, a);
    size_t b = key.find('/', a + 1);
    if (b == std::string_view::npos || !IsGenerationName(gen)) continue;
    std::string_view dir = key.substr(a + 1, b - a - 1);
    std::string_view name = key.substr(b + 1);
    Generation* g = nullptr;
    auto get = [&]() -> Generation& {
      if (g == nullptr) {
        g = &gens[std::string(gen)];
        g->name = gen;
      }
      return *g;
    };
    if (dir == "snapshots") {
      auto index = ParseSnapshotName(name);
      if (!index) continue;
      get().snapshots.push_back(
          SnapshotInfo{std::string(gen), *index, o.size, o.modified, o.key});
    } else if (dir == "wal") {
      auto pos = ParseWalSegmentName(name);
      if (!pos) continue;
      get().wal.push_back(WalSegmentInfo{std::string(gen), pos->first,
                                         pos->second, o.size, o.modified,
                                         o.key});
    } else {
      continue;
    }
    Generation& gr = get();
    if (gr.created == TimePoint{} || o.modified < gr.created)
      gr.created = o.modified;
    if (gr.updated == TimePoint{} || o.modified > gr.updated)
      gr.updated = o.modified;
  }
  Catalog cat;
  for (auto& [name, g] : gens) {
    std::sort(g.snapshots.begin(), g.snapshots.end(),
              [](const SnapshotInfo& x, const SnapshotInfo& y) {
                return x.index < y.index;
              });
    std::sort(g.wal.begin(), g.wal.end(),
              [](const WalSegmentInfo& x, const WalSegmentInfo& y) {
                return x.index != y.index ? x.index < y.index
                                          : x.offset < y.offset;
              });
    cat.generations.push_back(std::move(g));
  }
  return cat;
}

Result<Catalog> ReadCatalog(storage::ReplicaClient& replica) {
  auto objects = replica.ListObjects(std::string(kGenerationsPrefix));
  if (!objects.ok()) {
    if (objects.status().code() == base::Code::kUnimplemented) return Catalog{};
    return objects.status();
  }
  return BuildCatalog(*objects);
}

}  // namespace litekeep::restore::legacy
