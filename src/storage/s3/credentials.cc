// Credentials from settings, environment and ~/.aws/credentials.
#include "storage/s3/credentials.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "base/text.h"

namespace litekeep::storage::s3 {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Reads one profile section of an AWS shared credentials file.
std::map<std::string, std::string> ReadProfile(const std::string& file,
                                               const std::string& profile) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  std::string line, section;
  while (std::getline(in, line)) {
    line = base::Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = base::Trim(line.substr(1, line.size() - 2));
      if (section.rfind("profile ", 0) == 0)
        section = base::Trim(section.substr(8));
      continue;
    }
    if (section != profile) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    out[base::Trim(line.substr(0, eq))] = base::Trim(line.substr(eq + 1));
  }
  return out;
}

}  // namespace

Result<Credentials> ResolveCredentials(const S3Options& o) {
  Credentials c;
  if (!o.access_key_id.empty() || !o.secret_access_key.empty()) {
    if (o.access_key_id.empty() || o.secret_access_key.empty()) {
      return base::InvalidArgumentError(
          "s3 bucket " + o.bucket +
          ": access-key-id and secret-access-key must "
          "be given together");
    }
    c.access_key_id = o.access_key_id;
    c.secret_access_key = o.secret_access_key;
    c.session_token = o.session_token;
    return c;
  }
  if (!Env("AWS_ACCESS_KEY_ID").empty() &&
      !Env("AWS_SECRET_ACCESS_KEY").empty()) {
    c.access_key_id = Env("AWS_ACCESS_KEY_ID");
    c.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
    c.session_token =
        !o.session_token.empty() ? o.session_token : Env("AWS_SESSION_TOKEN");
    return c;
  }
  if (!Env("LITESTREAM_ACCESS_KEY_ID").empty() &&
      !Env("LITESTREAM_SECRET_ACCESS_KEY").empty()) {
    c.access_key_id = Env("LITESTREAM_ACCESS_KEY_ID");
    c.secret_access_key = Env("LITESTREAM_SECRET_ACCESS_KEY");
    c.session_token = o.session_token;
    return c;
  }
  std::string file = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !Env("HOME").empty())
    file = Env("HOME") + "/.aws/credentials";
  std::string profile = !o.profile.empty()            ? o.profile
                        : !Env("AWS_PROFILE").empty() ? Env("AWS_PROFILE")
                                                      : "default";
  if (!file.empty()) {
    auto p = ReadProfile(file, profile);
    if (!p["aws_access_key_id"].empty() &&
        !p["aws_secret_access_key"].empty()) {
      c.access_key_id = p["aws_access_key_id"];
      c.secret_access_key = p["aws_secret_access_key"];
      c.session_token = p["aws_session_token"];
      return c;
    }
  }
  return base::InvalidArgumentError(
      "s3 bucket " + o.bucket +
      ": no credentials: set access-key-id and "
      "secret-access-key, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
      "LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY, or profile "
      "[" +
      profile + "] in " + (file.empty() ? "~/.aws/credentials" : file));
}

}  // namespace litekeep::storage::s3
