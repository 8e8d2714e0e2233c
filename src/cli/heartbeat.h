// Heartbeat pings of `replicate` (docs/config.md, `heartbeat-url`): a GET
// of a dead-man's-switch URL, sent only while every database synced within
// the heartbeat interval, at most once per interval.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "config/config.h"
#include "metrics/registry.h"
#include "replicate/runner.h"

namespace litekeep::cli {

class Heartbeat {
 public:
  // Starts the pinging thread when url is set (else does nothing). The
  // databases' health is read from registry's last-sync gauges (the same
  // figures as /healthz, with interval as the bound). The thread ends when
  // stop is signalled.
  Heartbeat(std::string url, config::Duration interval,
            metrics::Registry& registry, replicate::StopSignal& stop);
  ~Heartbeat();  // waits for the thread
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

 private:
  void Loop();

  std::string url_;
  config::Duration interval_;
  metrics::Registry& registry_;
  replicate::StopSignal& stop_;
  std::thread thread_;
};

}  // namespace litekeep::cli
