// Metrics and health endpoint for `replicate`.
#include "cli/metrics_endpoint.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <set>

#include "metrics/process.h"

namespace litekeep::cli {

metrics::HttpResponse HealthResponse(metrics::Registry& registry,
                                     config::Duration max_sync_age) {
  const double now = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const double bound = std::chrono::duration<double>(max_sync_age).count();
  auto series = registry.Series("litekeep_last_sync_timestamp_seconds");
  bool healthy = !series.empty();
  std::string body;
  // Idle databases (docs/architecture.md, "Idle databases") hold everything
  // in the replica and do not sync until the next write.
  std::set<metrics::Labels> idle;
  for (const auto& [labels, v] : registry.Series("litekeep_replica_idle")) {
    if (v > 0) idle.insert(labels);
  }
  for (const auto& [labels, t] : series) {
    std::string who;
    for (const auto& [k, v] : labels) who += " " + k + "=" + v;
    char line[128];
    if (idle.count(labels) != 0) {
      body += "ok" + who + ": idle, the replica holds every commit\n";
      continue;
    }
    if (t <= 0) {
      std::snprintf(line, sizeof(line), "no successful sync yet");
      healthy = false;
    } else {
      const double age = now - t;
      std::snprintf(line, sizeof(line), "last successful sync %.1fs ago (bound %.0fs)",
                    age, bound);
      if (age > bound) healthy = false;
    }
    body += std::string(t > 0 && now - t <= bound ? "ok" : "unhealthy") + who +
            ": " + line + "\n";
  }
  // Databases held back by a failed restore, the lineage guard, the local
  // lock, or a database replaced/deleted while replicating.
  bool blocked_any = false;
  for (const auto& [labels, v] :
       registry.Series("litekeep_replication_blocked")) {
    if (v <= 0) continue;
    std::string who;
    for (const auto& [k, val] : labels) who += " " + k + "=" + val;
    body += "unhealthy" + who + ": not replicating\n";
    healthy = false;
    blocked_any = true;
  }
  if (series.empty() && !blocked_any) body = "no databases\n";
  return {healthy ? 200 : 503, "text/plain; charset=utf-8", body};
}

Result<std::unique_ptr<metrics::HttpServer>> StartMetricsEndpoint(
    const std::string& addr, metrics::Registry& registry,
    config::Duration max_sync_age) {
  if (addr.empty()) return std::unique_ptr<metrics::HttpServer>();
  metrics::RegisterProcessMetrics(registry);
  std::map<std::string, metrics::HttpHandler> routes;
  routes["/metrics"] = [&registry]() {
    return metrics::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                                 registry.Render()};
  };
  routes["/healthz"] = [&registry, max_sync_age]() {
    return HealthResponse(registry, max_sync_age);
  };
  LK_ASSIGN_OR_RETURN(auto server, metrics::HttpServer::Start(addr, std::move(routes)));
  spdlog::info("serving metrics on {} (port {}): /metrics, /healthz", addr,
               server->port());
  return server;
}

}  // namespace litekeep::cli
