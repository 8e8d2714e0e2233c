// Collections: MKCOL of missing directories (parents first, remembered once
// they exist), PROPFIND Depth 1 listings and the multistatus parser.
#include <cctype>
#include <cstdlib>

#include "storage/abs/shared_key.h"
#include "storage/hash.h"
#include "storage/webdav/client_impl.h"
#include "storage/xml.h"

namespace litekeep::storage::webdav {
namespace {

// The properties a listing asks for.
constexpr char kPropfindBody[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<D:propfind xmlns:D=\"DAV:\"><D:prop>"
    "<D:resourcetype/><D:getcontentlength/><D:getlastmodified/>"
    "<D:getetag/></D:prop></D:propfind>";

// The XML with namespace prefixes dropped from element names and
// whitespace inside tags made plain spaces, so that the flat helpers of
// storage/xml.h find <response>, <href>, … whatever prefix a server uses.
std::string LocalNames(std::string_view xml) {
  std::string out;
  out.reserve(xml.size());
  size_t i = 0;
  while (i < xml.size()) {
    const char c = xml[i];
    if (c != '<') {
      out += c;
      ++i;
      continue;
    }
    const size_t gt = xml.find('>', i);
    if (gt == std::string_view::npos) {
      out.append(xml.substr(i));
      break;
    }
    std::string_view tag = xml.substr(i + 1, gt - i - 1);
    out += '<';
    size_t j = 0;
    if (!tag.empty() && tag[0] == '/') {
      out += '/';
      j = 1;
    }
    if (!tag.empty() && (tag[0] == '?' || tag[0] == '!')) {
      out.append(tag);
    } else {
      size_t name_end = j;
      while (name_end < tag.size() &&
             !std::isspace(static_cast<unsigned char>(tag[name_end])) &&
             tag[name_end] != '/') {
        ++name_end;
      }
      std::string_view name = tag.substr(j, name_end - j);
      if (size_t colon = name.find(':'); colon != std::string_view::npos) {
        name = name.substr(colon + 1);
      }
      out.append(name);
      for (char t : tag.substr(name_end)) {
        out += std::isspace(static_cast<unsigned char>(t)) ? ' ' : t;
      }
    }
    out += '>';
    i = gt + 1;
  }
  return out;
}

// "/a/b/" from an href (a path or an absolute URL), decoded, without the
// trailing '/'.
std::string HrefPath(std::string_view href) {
  std::string h = XmlUnescape(href);
  if (size_t sep = h.find("://"); sep != std::string::npos) {
    const size_t slash = h.find('/', sep + 3);
    h = slash == std::string::npos ? "/" : h.substr(slash);
  }
  std::string p = UriDecode(h);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

std::vector<DirEntry> ParseMultistatus(std::string_view body,
                                       std::string_view dir_path) {
  std::string dir(dir_path);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) dir = "/";
  const std::string xml = LocalNames(body);
  std::vector<DirEntry> out;
  for (std::string_view block : XmlBlocks(xml, "response")) {
    const std::string path = HrefPath(XmlText(block, "href"));
    if (path == dir || path.empty()) continue;
    DirEntry e;
    e.name = path.substr(path.rfind('/') + 1);
    if (e.name.empty()) continue;
    std::string_view type;
    if (auto t = XmlBlocks(block, "resourcetype"); !t.empty()) type = t[0];
    e.collection = type.find("<collection") != std::string_view::npos;
    e.size =
        std::strtoll(XmlText(block, "getcontentlength").c_str(), nullptr, 10);
    e.modified = abs::ParseRfc1123(XmlText(block, "getlastmodified"))
                     .value_or(TimePoint{});
    e.etag = XmlText(block, "getetag");
    out.push_back(std::move(e));
  }
  return out;
}

bool IsTempName(std::string_view name) {
  const size_t at = name.rfind(".tmp-");
  if (at == std::string_view::npos || name.size() != at + 5 + 16) {
    return false;
  }
  for (char c : name.substr(at + 5)) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

Status WebdavClient::EnsureCollections(const std::string& dir) {
  // The ancestors of dir, shallowest first, that are not known to exist.
  std::vector<std::string> missing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::string d = dir; !d.empty();) {
      if (collections_.count(d)) break;
      missing.push_back(d);
      const size_t slash = d.rfind('/');
      d = slash == std::string::npos ? "" : d.substr(0, slash);
    }
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    Request r;
    r.method = "MKCOL";
    r.path = *it;
    r.collection = true;
    r.kind = Kind::kPut;
    LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "create collection"));
    // 201: created; 405: it exists already (RFC 4918 9.3.1). rclone answers
    // 201 for an existing one too.
    if (resp.status != 201 && resp.status != 405 && resp.status != 200 &&
        resp.status != 204) {
      if (resp.status == 409) {
        return base::FailedPreconditionError(
            "create collection " + Where(*it) +
            ": its parent is missing or not a collection (HTTP 409)");
      }
      return ResponseError(resp, "create collection", *it);
    }
    std::lock_guard<std::mutex> lock(mu_);
    collections_.insert(*it);
  }
  return Status::Ok();
}

void WebdavClient::ForgetCollections(const std::string& under,
                                     bool with_times) {
  auto below = [&](const std::string& p) {
    return under.empty() || p == under ||
           p.compare(0, under.size() + 1, under + "/") == 0;
  };
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = collections_.begin(); it != collections_.end();) {
    it = below(*it) ? collections_.erase(it) : std::next(it);
  }
  if (!with_times) return;
  for (auto it = created_.begin(); it != created_.end();) {
    it = below(it->first) ? created_.erase(it) : std::next(it);
  }
}

Result<std::vector<DirEntry>> WebdavClient::ReadDir(const std::string& dir,
                                                    bool* missing) {
  *missing = false;
  Request r;
  r.method = "PROPFIND";
  r.path = dir;
  r.collection = true;
  r.kind = Kind::kList;
  r.headers = {{"Depth", "1"},
               {"Content-Type", "application/xml; charset=utf-8"}};
  r.body = kPropfindBody;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "list"));
  if (resp.status == 404) {
    *missing = true;
    return std::vector<DirEntry>{};
  }
  if (resp.status != 207) return ResponseError(resp, "list", dir);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!dir.empty()) collections_.insert(dir);
  }
  std::string dir_path = root_path_;
  if (!dir.empty()) dir_path += "/" + dir;
  return ParseMultistatus(resp.body, dir_path);
}

}  // namespace litekeep::storage::webdav
