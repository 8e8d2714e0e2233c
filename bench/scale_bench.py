#!/usr/bin/env python3
"""Many idle databases in one replicator: litekeep and Litestream 0.3.13.

One run = one tool, one database count, one kind of config (config entries,
or one watched directory for litekeep). Prints one result line:
start-up time until every database has its first replica file, steady-state
CPU (% of one core) and RSS once idle, and the p50/p99 lag of 100 writes to
random databases at random moments (commit -> new file in the file replica).

Usage: scale_bench.py TOOL BINARY COUNT MODE WORKDIR
  TOOL litekeep|litestream, MODE entries|dir.
Env: BENCH_SETTLE (s, default 20), BENCH_CPU_SECONDS (default 30),
BENCH_LAG_WRITES (default 100), BENCH_START_TIMEOUT (s, default 600).
"""
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

TOOL, BINARY, COUNT, MODE, WORK = (sys.argv[1], sys.argv[2], int(sys.argv[3]),
                                   sys.argv[4], sys.argv[5])
SETTLE = float(os.environ.get("BENCH_SETTLE", "20"))
CPU_SECONDS = float(os.environ.get("BENCH_CPU_SECONDS", "30"))
LAG_WRITES = int(os.environ.get("BENCH_LAG_WRITES", "100"))
START_TIMEOUT = float(os.environ.get("BENCH_START_TIMEOUT", "600"))
TICK = os.sysconf("SC_CLK_TCK")

data = os.path.join(WORK, "data")
replica = os.path.join(WORK, "replica")
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(data)
os.makedirs(replica)

# Databases: one made with SQLite, copied (a WAL-mode file without -wal).
template = os.path.join(WORK, "template.db")
con = sqlite3.connect(template)
con.execute("PRAGMA journal_mode=WAL")
con.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
con.execute("INSERT INTO t(v) VALUES('hello')")
con.commit()
con.close()
names = ["db%05d.db" % i for i in range(COUNT)]
for n in names:
    shutil.copyfile(template, os.path.join(data, n))


def replica_dir(name):
    return os.path.join(replica, name)


cfg = os.path.join(WORK, "config.yml")
with open(cfg, "w") as f:
    if TOOL == "litekeep":
        f.write("dbs:\n")
        if MODE == "dir":
            f.write("  - dir: %s\n    pattern: \"*.db\"\n    watch: true\n"
                    "    replica:\n      path: %s\n      sync-interval: 1s\n"
                    % (data, replica))
        else:
            for n in names:
                f.write("  - path: %s\n    replica:\n      path: %s\n"
                        "      sync-interval: 1s\n"
                        % (os.path.join(data, n), replica_dir(n)))
    else:
        f.write("dbs:\n")
        for n in names:
            f.write("  - path: %s\n    replicas:\n      - path: %s\n"
                    "        sync-interval: 1s\n"
                    % (os.path.join(data, n), replica_dir(n)))


def first_file_count():
    """Databases whose replica holds a file already."""
    done = 0
    for n in names:
        d = replica_dir(n)
        if TOOL == "litekeep":
            sub = os.path.join(d, "ltx")
        else:
            sub = os.path.join(d, "generations")
        try:
            if os.listdir(sub):
                done += 1
        except OSError:
            pass
    return done


def new_file_appeared(name, before):
    return l0_files(name) - before


def l0_files(name):
    d = replica_dir(name)
    out = set()
    if TOOL == "litekeep":
        try:
            out = set(x for x in os.listdir(os.path.join(d, "ltx", "0"))
                      if x.endswith(".ltx"))
        except OSError:
            pass
    else:
        gens = os.path.join(d, "generations")
        try:
            for g in os.listdir(gens):
                try:
                    out |= set(x for x in os.listdir(os.path.join(gens, g, "wal"))
                               if x.endswith(".lz4"))
                except OSError:
                    pass
        except OSError:
            pass
    return out


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def threads(pid):
    return len(os.listdir("/proc/%d/task" % pid))


log = open(os.path.join(WORK, "log"), "w")
t0 = time.monotonic()
proc = subprocess.Popen([BINARY, "replicate", "-config", cfg], stdout=log,
                        stderr=subprocess.STDOUT)
result = {"tool": TOOL, "dbs": COUNT, "mode": MODE}
try:
    started = None
    while time.monotonic() - t0 < START_TIMEOUT:
        if proc.poll() is not None:
            break
        if first_file_count() >= COUNT:
            started = time.monotonic() - t0
            break
        time.sleep(0.5)
    if started is None:
        done = first_file_count()
        result["startup"] = "not all replicating after %.0f s (%d of %d%s)" % (
            time.monotonic() - t0, done, COUNT,
            ", exited %s" % proc.returncode if proc.poll() is not None else "")
        print(result)
        sys.exit(0)
    result["startup_s"] = round(started, 1)
    time.sleep(SETTLE)
    c0, w0 = cpu_ticks(proc.pid), time.monotonic()
    time.sleep(CPU_SECONDS)
    c1, w1 = cpu_ticks(proc.pid), time.monotonic()
    result["cpu_pct"] = round(100.0 * (c1 - c0) / TICK / (w1 - w0), 2)
    result["rss_mib"] = round(rss_mib(proc.pid), 1)
    result["threads"] = threads(proc.pid)

    # Lag: LAG_WRITES writes to random databases at random moments.
    lags = []
    lock = threading.Lock()

    def one_write(name):
        before = l0_files(name)
        c = sqlite3.connect(os.path.join(data, name), timeout=10)
        c.execute("INSERT INTO t(v) VALUES('x')")
        c.commit()
        committed = time.monotonic()
        while time.monotonic() - committed < 30:
            if l0_files(name) - before:
                with lock:
                    lags.append(time.monotonic() - committed)
                break
            time.sleep(0.01)
        else:
            with lock:
                lags.append(float("inf"))
        c.close()

    workers = []
    chosen = random.sample(names, min(LAG_WRITES, COUNT))
    for name in chosen:
        time.sleep(random.uniform(0, 0.1))
        th = threading.Thread(target=one_write, args=(name,))
        th.start()
        workers.append(th)
    for th in workers:
        th.join()
    lags.sort()
    result["lag_p50_s"] = round(lags[len(lags) // 2], 3)
    result["lag_p99_s"] = round(lags[min(len(lags) - 1,
                                         int(len(lags) * 0.99))], 3)
    result["lag_max_s"] = round(lags[-1], 3)
    print(result)
finally:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log.close()
