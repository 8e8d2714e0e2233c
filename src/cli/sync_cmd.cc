// `litekeep sync`: keep a local directory in step with a bucket prefix (or
// any store URL), once or continuously with -watch (docs/sync.md).
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/metrics_endpoint.h"
#include "cli/parse.h"
#include "cli/progress.h"
#include "cli/sync_tracks.h"
#include "replicate/runner.h"

namespace litekeep::cli {
namespace {

constexpr const char* kSyncHelp =
    "Keeps DEST_DIR in step with the objects under SRC_URL, one way: the\n"
    "store is the truth, nothing is ever uploaded.\n"
    "\n"
    "  litekeep sync [flags] SRC_URL DEST_DIR\n"
    "\n"
    "SRC_URL is any URL `replicate` takes (s3://bucket/prefix?endpoint=...,\n"
    "file:///dir or a directory), with the same credentials and environment\n"
    "variables. Every object under the prefix is copied to DEST_DIR/<key>;\n"
    "then sync exits, or with -watch keeps applying changes. Each file\n"
    "appears atomically (temporary name, fsync, rename). A state file\n"
    "(DEST_DIR/.litekeep-sync.json) remembers each object's ETag and size, so\n"
    "an unchanged tree costs one LIST per interval and no GET, and a restart\n"
    "downloads only what changed. The interval doubles while nothing changes\n"
    "(-interval .. -max-interval) and snaps back on a change.\n"
    "\n"
    "Local files that are not objects are left alone unless -delete is given\n"
    "(then DEST_DIR mirrors the store, excluded names kept). Object names\n"
    "with '..', empty or absolute paths, and symbolic links are refused with\n"
    "a message. Exit codes: 0 ok, 1 failure (an object failed, or the\n"
    "store/directory could not be used), 2 usage.\n"
    "\n"
    "With one DB_PATH instead (or -wait/-socket/-timeout), `sync` is\n"
    "Litestream's control command: a running `replicate` syncs that database\n"
    "now (litekeep sync [-wait] [-socket PATH] [-timeout SECONDS] [-json]\n"
    "DB_PATH; docs/cli.md).";

int ParseSize(const std::string& flag, const std::string& text, int64_t* out) {
  if (text.empty()) return 0;
  auto v = config::ParseByteSize(text);
  if (!v.ok()) {
    std::fprintf(stderr, "error: -%s: %s\n", flag.c_str(),
                 v.status().message().c_str());
    return 2;
  }
  *out = *v;
  return 0;
}

int ParseInterval(const std::string& flag, const std::string& text,
                  config::Duration* out) {
  auto d = config::ParseDuration(text);
  if (!d.ok() || d->count() <= 0) {
    std::fprintf(stderr,
                 "error: -%s \"%s\": expected a positive duration "
                 "such as 500ms, 2s or 1m\n",
                 flag.c_str(), text.c_str());
    return 2;
  }
  *out = *d;
  return 0;
}

nlohmann::json Summary(const sync::PassStats& s, const sync::Syncer& syncer,
                       double seconds) {
  const auto t = syncer.totals();
  return {{"source", syncer.Describe()},
          {"dest", syncer.options().dest},
          {"objects", s.objects},
          {"bytes", s.bytes},
          {"downloaded", s.downloaded},
          {"downloaded_bytes", s.downloaded_bytes},
          {"deleted", s.deleted},
          {"excluded", s.excluded},
          {"refused", s.refused},
          {"failed", s.failed},
          {"requests", {{"list", t.requests.list}, {"get", t.requests.get}}},
          {"seconds", seconds}};
}

}  // namespace

int RunSync(const std::vector<std::string>& args) {
  CLI::App app{kSyncHelp, "litekeep sync"};
  std::string src, dest, config_path, state,
      interval_text = "2s", max_interval_text = "30s", max_size_text,
      max_total_text, addr;
  std::vector<std::string> include, exclude;
  bool watch = false, delete_extra = false, json = false, no_expand_env = false;
  int parallelism = 4;
  app.add_option("src", src,
                 "source URL (s3://bucket/prefix, file:///dir, DIR)")
      ->required();
  app.add_option("dest", dest, "local destination directory")->required();
  app.add_flag("--watch", watch, "keep following changes until SIGINT/SIGTERM");
  app.add_flag("--delete", delete_extra,
               "remove local files that are not objects (as rclone sync)");
  app.add_option("--interval", interval_text,
                 "-watch: time between listings while things change "
                 "(default 2s)");
  app.add_option("--max-interval", max_interval_text,
                 "-watch: the interval grows up to this while nothing "
                 "changes (default 30s)");
  app.add_option("--include", include,
                 "copy only keys matching this glob (repeatable; '*.py', "
                 "'static/**')");
  app.add_option("--exclude", exclude,
                 "skip keys matching this glob (repeatable)");
  app.add_option("--max-size", max_size_text,
                 "refuse objects larger than this (e.g. 10MiB)");
  app.add_option("--max-total-size", max_total_text,
                 "refuse a tree larger than this in total (nothing is copied)");
  app.add_option("--parallelism", parallelism,
                 "concurrent downloads (default 4)");
  app.add_option("--state", state,
                 "state file (default DEST_DIR/.litekeep-sync.json)");
  app.add_option("--config", config_path,
                 "config file for top-level credentials/region/endpoint "
                 "(optional)");
  app.add_flag("--no-expand-env", no_expand_env,
               "do not expand $VAR in the config");
  app.add_option("--addr", addr, "-watch: serve /metrics and /healthz here");
  app.add_flag("--json", json, "print a JSON summary of the first pass");
  if (auto code = ParseArgs(app, args)) return *code;

  config::SyncConfig s;
  s.src = src;
  s.dest = AbsolutePath(dest);
  s.watch = watch;
  s.delete_extra = delete_extra;
  s.include = include;
  s.exclude = exclude;
  s.state = state.empty() ? "" : AbsolutePath(state);
  if (parallelism < 1) {
    std::fprintf(stderr, "error: -parallelism must be at least 1\n");
    return 2;
  }
  s.parallelism = parallelism;
  if (int c = ParseInterval("interval", interval_text, &s.interval)) return c;
  if (int c =
          ParseInterval("max-interval", max_interval_text, &s.max_interval)) {
    return c;
  }
  if (int c = ParseSize("max-size", max_size_text, &s.max_size)) return c;
  if (int c = ParseSize("max-total-size", max_total_text, &s.max_total_size)) {
    return c;
  }

  auto cfg = LoadConfig(config_path, !no_expand_env, false);
  if (!cfg.ok()) return ReportError(cfg.status());
  InitLogging(*cfg ? (*cfg)->logging : config::LoggingConfig{});
  auto source = config::ParseReplicaUrl(src);
  if (!source.ok()) return ReportError(source.status());
  s.source = std::move(*source);
  if (*cfg) config::ApplyReplicaDefaults(**cfg, &s.source);

  // SIGINT/SIGTERM end -watch after the pass in progress.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (watch) pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto syncer = NewSyncer(s);
  if (!syncer.ok()) return ReportError(syncer.status());

  const auto start = std::chrono::steady_clock::now();
  sync::PassStats first;
  {
    ProgressBar bar("sync", !json);
    auto r = (*syncer)->Pass([&bar](size_t f, size_t ft, int64_t b,
                                    int64_t bt) { bar.Update(f, ft, b, bt); });
    if (!r.ok()) return ReportError(r.status());
    first = std::move(*r);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (json) {
    std::printf("%s\n", Summary(first, **syncer, seconds).dump(2).c_str());
  } else {
    for (const auto& m : first.failed)
      std::fprintf(stderr, "error: %s\n", m.c_str());
    std::fprintf(
        stderr,
        "sync %s -> %s: %zu objects (%s), %zu downloaded (%s), "
        "%zu removed, %zu refused, %zu failed in %.1fs\n",
        (*syncer)->Describe().c_str(), s.dest.c_str(), first.objects,
        FormatBytes(static_cast<double>(first.bytes)).c_str(), first.downloaded,
        FormatBytes(static_cast<double>(first.downloaded_bytes)).c_str(),
        first.deleted, first.refused.size(), first.failed.size(), seconds);
  }
  if (!watch) return first.failed.empty() ? 0 : 1;

  replicate::StopSignal stop;
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != 0) spdlog::info("signal {} received, stopping", sig);
    stop.Stop();
  });
  metrics::Registry registry;
  int collector = AddSyncMetrics(registry, **syncer, true);
  PublishSyncHealth(registry, **syncer);
  auto server = StartMetricsEndpoint(
      addr, registry,
      std::max<config::Duration>(std::chrono::seconds(60), 2 * s.max_interval));
  if (!server.ok()) {
    ::kill(::getpid(), SIGTERM);  // ends the signal thread
    signal_thread.join();
    registry.RemoveCollector(collector);
    return ReportError(server.status());
  }
  spdlog::info("watching {} (interval {} up to {})", (*syncer)->Describe(),
               config::FormatDuration(s.interval),
               config::FormatDuration(s.max_interval));
  (*syncer)->Watch(
      [&stop](std::chrono::milliseconds d) { return stop.WaitFor(d); },
      [&s, &registry, &syncer](const Result<sync::PassStats>& r) {
        PublishSyncHealth(registry, **syncer);
        if (!r.ok()) {
          spdlog::error("sync -> {}: {}", s.dest, r.status().message());
        } else if (r->changed()) {
          spdlog::info("sync -> {}: {} downloaded, {} removed", s.dest,
                       r->downloaded, r->deleted);
        }
      });
  signal_thread.join();
  registry.RemoveCollector(collector);
  return 0;
}

}  // namespace litekeep::cli
