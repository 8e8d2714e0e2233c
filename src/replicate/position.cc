// Position persistence as JSON.
#include "replicate/position.h"

#include <nlohmann/json.hpp>

#include "base/io.h"

namespace litekeep::replicate {

std::optional<Position> LoadPosition(const std::string& path) {
  auto text = base::ReadFileToString(path);
  if (!text.ok()) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    Position p;
    p.txid = j.at("txid").get<uint64_t>();
    p.page_size = j.at("page_size").get<uint32_t>();
    p.salt1 = j.at("salt1").get<uint32_t>();
    p.salt2 = j.at("salt2").get<uint32_t>();
    p.checkpoint_seq = j.at("checkpoint_seq").get<uint32_t>();
    p.offset = j.at("offset").get<int64_t>();
    p.checksum.s0 = j.at("checksum0").get<uint32_t>();
    p.checksum.s1 = j.at("checksum1").get<uint32_t>();
    return p;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

Status SavePosition(const std::string& path, const Position& pos) {
  nlohmann::json j = {
      {"txid", pos.txid},
      {"page_size", pos.page_size},
      {"salt1", pos.salt1},
      {"salt2", pos.salt2},
      {"checkpoint_seq", pos.checkpoint_seq},
      {"offset", pos.offset},
      {"checksum0", pos.checksum.s0},
      {"checksum1", pos.checksum.s1},
  };
  return base::WriteFileAtomic(path, j.dump(2) + "\n");
}

}  // namespace litekeep::replicate
