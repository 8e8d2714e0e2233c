// Process metrics (CPU seconds, resident memory, start time), read from
// /proc at each scrape.
#pragma once

#include "metrics/registry.h"

namespace litekeep::metrics {

// Declares the process families and adds a collector that refreshes them.
// Returns the collector id.
int RegisterProcessMetrics(Registry& registry);

}  // namespace litekeep::metrics
