// The MCP endpoint `replicate` serves on `mcp-addr` (docs/cli.md, "MCP"):
// Model Context Protocol over streamable HTTP (JSON-RPC 2.0 in a POST, one
// JSON answer), with Litestream 0.5's tools (litekeep_info, _databases,
// _status, _ltx, _restore, _reset, _version; the litestream_* names are
// accepted too), answered in process from the running JobSet and config.
#pragma once

#include <memory>

#include "base/status.h"
#include "cli/replicate_jobs.h"
#include "config/config.h"
#include "control/unix_http.h"

namespace litekeep::cli {

// Starts serving MCP on cfg.mcp_addr (host:port; no host means 127.0.0.1).
// cfg and jobs must outlive the server.
Result<std::unique_ptr<control::UnixHttpServer>> StartMcp(
    const config::Config& cfg, JobSet& jobs);

// Answers one HTTP request to the MCP endpoint (for tests).
control::HttpReply HandleMcp(const control::HttpRequest& req,
                             const config::Config& cfg, JobSet& jobs);

}  // namespace litekeep::cli
