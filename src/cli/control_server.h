// The control socket `replicate` serves (docs/cli.md, "Control socket"):
// Litestream 0.5's endpoints and JSON shapes (/start, /stop, /sync,
// /register, /unregister, /list, /info, /txid) answered from the running
// JobSet, on a Unix socket only.
#pragma once

#include <memory>

#include "base/status.h"
#include "cli/replicate_jobs.h"
#include "config/config.h"
#include "control/unix_http.h"

namespace litekeep::cli {

// Starts serving cfg.socket for jobs (both must outlive the server; stop
// it before the jobs go). cfg completes registered replica URLs with the
// top-level replica settings (credentials, region, ...).
Result<std::unique_ptr<control::UnixHttpServer>> StartControlSocket(
    const config::Config& cfg, JobSet& jobs);

// Answers one control request (the server's handler; for tests).
control::HttpReply HandleControl(const control::HttpRequest& req,
                                 const config::Config& cfg, JobSet& jobs,
                                 TimePoint started_at);

}  // namespace litekeep::cli
