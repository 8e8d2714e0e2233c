// Heartbeat pings of `replicate`: see heartbeat.h and docs/config.md,
// `heartbeat-url`. The URL is never logged whole (it usually carries the
// check's secret token): messages name its host only.
#include "cli/heartbeat.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

#include "cli/metrics_endpoint.h"

namespace litekeep::cli {
namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

// "https://host:port" of url, for messages.
std::string HostOf(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string host = url.substr(start, end - start);
  if (size_t at = host.rfind('@'); at != std::string::npos) {
    host = host.substr(at + 1);  // drop user info
  }
  return url.substr(0, start) + host;
}

// One GET; an error names the host and the HTTP status or curl error.
Status Ping(const std::string& url) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return base::InternalError("heartbeat: curl init");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Discard);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "litekeep");
  CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return base::UnavailableError("heartbeat to " + HostOf(url) + ": " +
                                  curl_easy_strerror(rc));
  }
  if (code < 200 || code >= 300) {
    return base::UnavailableError("heartbeat to " + HostOf(url) +
                                  ": HTTP status " + std::to_string(code));
  }
  return Status::Ok();
}

}  // namespace

Heartbeat::Heartbeat(std::string url, config::Duration interval,
                     metrics::Registry& registry, replicate::StopSignal& stop)
    : url_(std::move(url)),
      interval_(interval),
      registry_(registry),
      stop_(stop) {
  if (url_.empty()) return;
  spdlog::info("heartbeat to {} every {} while every database is in sync",
               HostOf(url_), config::FormatDuration(interval_));
  thread_ = std::thread([this] { Loop(); });
}

Heartbeat::~Heartbeat() {
  if (thread_.joinable()) thread_.join();
}

void Heartbeat::Loop() {
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> last_ping;
  // Checks every second; pings when healthy and the last ping is at least
  // an interval old (the first as soon as every database has synced).
  while (!stop_.WaitFor(std::chrono::seconds(1))) {
    if (last_ping && Clock::now() - *last_ping < interval_) continue;
    if (HealthResponse(registry_, interval_).status != 200) continue;
    last_ping = Clock::now();
    Status s = Ping(url_);
    if (s.ok()) {
      spdlog::debug("heartbeat sent to {}", HostOf(url_));
    } else {
      spdlog::warn("{}", s.message());
    }
  }
}

}  // namespace litekeep::cli
