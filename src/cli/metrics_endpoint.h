// The `addr` endpoint of `replicate`: /metrics (Prometheus text) and
// /healthz (200 while every database synced within max_sync_age, else 503).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "config/config.h"
#include "metrics/registry.h"
#include "metrics/server.h"

namespace litekeep::cli {

// Starts serving registry on addr; nullptr when addr is empty.
Result<std::unique_ptr<metrics::HttpServer>> StartMetricsEndpoint(
    const std::string& addr, metrics::Registry& registry,
    config::Duration max_sync_age);

// The /healthz answer from the registry's last-sync gauges.
metrics::HttpResponse HealthResponse(metrics::Registry& registry,
                                     config::Duration max_sync_age);

}  // namespace litekeep::cli
