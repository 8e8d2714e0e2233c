// ReplicaSettings -> WebdavOptions.
#include "storage/webdav/options.h"

#include "base/text.h"
#include "storage/url.h"

namespace litekeep::storage::webdav {
namespace {

// "a//b/" -> "a/b": the path without empty segments.
std::string TrimSlashes(std::string_view p) {
  std::string out;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    if (j > i) {
      if (!out.empty()) out += '/';
      out += p.substr(i, j - i);
    }
    i = j + 1;
  }
  return out;
}

}  // namespace

base::Status CheckSettings(ReplicaSettings* s) {
  if (s->webdav_url.empty()) {
    return base::InvalidArgumentError(
        "webdav replica has no server (set `webdav-url:` or use "
        "webdav://HOST[:PORT]/path)");
  }
  std::string& u = s->webdav_url;
  if (u.find("://") == std::string::npos) u = EnsureEndpointScheme(u);
  const size_t sep = u.find("://");
  const std::string scheme = base::Lower(u.substr(0, sep));
  if ((scheme != "http" && scheme != "https") || u.size() <= sep + 3 ||
      u[sep + 3] == '/') {
    return base::InvalidArgumentError("webdav-url " + RedactUrlText(u) +
                                      " must be http(s)://host[:port][/path]");
  }
  const size_t auth_end = u.find_first_of("/?#", sep + 3);
  if (u.substr(sep + 3, auth_end - sep - 3).find('@') != std::string::npos) {
    return base::InvalidArgumentError(
        "webdav-url " + RedactUrlText(u) +
        " carries a user name; set webdav-username and webdav-password (or "
        "use webdav://USER:PASSWORD@HOST/path)");
  }
  if (u.find_first_of("?#") != std::string::npos) {
    return base::InvalidArgumentError("webdav-url " + RedactUrlText(u) +
                                      " must not have a query or fragment");
  }
  while (!u.empty() && u.back() == '/') u.pop_back();
  s->path = TrimSlashes(s->path);
  const std::string padded = "/" + s->path + "/";
  if (padded.find("/./") != std::string::npos ||
      padded.find("/../") != std::string::npos) {
    return base::InvalidArgumentError("webdav path \"" + s->path +
                                      "\" must not contain . or ..");
  }
  return base::Status::Ok();
}

Result<WebdavOptions> OptionsFromSettings(const ReplicaSettings& s) {
  WebdavOptions o;
  o.base_url = s.webdav_url;
  o.path = s.path;
  o.username = s.webdav_username;
  o.password = s.webdav_password;
  o.skip_verify = s.skip_verify;
  o.ca_bundle = s.ca_bundle;
  return o;
}

}  // namespace litekeep::storage::webdav
