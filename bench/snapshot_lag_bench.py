#!/usr/bin/env python3
"""Replication lag while a large snapshot is written (docs/benchmarks.md,
"Lag while a snapshot is written").

A database of SNAP_MB (default 1024) MB of incompressible rows replicates to
a local file replica at sync-interval 1s. After its first snapshot, an app
commits one small row every 250 ms for MEASURE_S seconds (default 60) and the
lag until a level-0 LTX file holding it is in the replica is measured (the
replica's ltx/0 directory is polled every millisecond; a file appears only
after its rename, i.e. when durable). Two runs on the same database:

  baseline:  snapshot.interval 24h (no snapshot during the window)
  snapshots: snapshot.interval 20s (the compactor re-encodes the whole image
             at every 20 s boundary, on its own worker, while syncs go on)

Prints lag p50/p99/max for both, and how many snapshots the second run
wrote. Usage: snapshot_lag_bench.py LITEKEEP_BIN [WORK_DIR]"""
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

SNAP_MB = int(os.environ.get("SNAP_MB", "1024"))
MEASURE_S = float(os.environ.get("MEASURE_S", "60"))


def make_db(path):
    rows = SNAP_MB * 1024 * 1024 // 4096
    c = sqlite3.connect(path)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("CREATE TABLE big(id INTEGER PRIMARY KEY, v BLOB)")
    c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, at REAL)")
    c.execute(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c "
        f"WHERE x < {rows}) INSERT INTO big(v) SELECT randomblob(4000) FROM c")
    c.commit()
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()


def max_txid(l0):
    best = 0
    try:
        names = os.listdir(l0)
    except FileNotFoundError:
        return 0
    for n in names:
        m = re.fullmatch(r"([0-9a-f]{16})-([0-9a-f]{16})\.ltx", n)
        if m:
            best = max(best, int(m.group(2), 16))
    return best


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def run(bin_path, work, db, interval):
    replica = os.path.join(work, "replica-" + interval)
    cfg = os.path.join(work, f"litekeep-{interval}.yml")
    with open(cfg, "w") as f:
        f.write(f"snapshot:\n  interval: {interval}\n  retention: 1m\n"
                f"dbs:\n  - path: {db}\n    replica:\n      path: {replica}\n"
                f"      sync-interval: 1s\n")
    log_path = os.path.join(work, f"replicate-{interval}.log")
    log = open(log_path, "w")
    p = subprocess.Popen([bin_path, "replicate", "-config", cfg], stdout=log,
                         stderr=log)
    l9 = os.path.join(replica, "ltx", "9")
    l0 = os.path.join(replica, "ltx", "0")
    t0 = time.monotonic()
    while not (os.path.isdir(l9) and os.listdir(l9)):
        if p.poll() is not None:
            raise RuntimeError(f"replicate exited: see {log_path}")
        time.sleep(0.05)
    first = time.monotonic() - t0
    app = sqlite3.connect(db, timeout=10)
    lags = []
    end = time.monotonic() + MEASURE_S
    while time.monotonic() < end:
        before = max_txid(l0)
        at = time.monotonic()
        app.execute("INSERT INTO t(at) VALUES(?)", (at,))
        app.commit()
        while max_txid(l0) <= before:
            if time.monotonic() - at > 30:
                raise RuntimeError("a commit was not shipped within 30 s")
            time.sleep(0.001)
        lags.append(time.monotonic() - at)
        time.sleep(max(0.0, 0.25 - (time.monotonic() - at)))
    app.close()
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=120)
    log.close()
    snaps = open(log_path).read().count(" written from ")
    shutil.rmtree(replica, ignore_errors=True)
    return {"interval": interval, "first_snapshot_s": round(first, 1),
            "samples": len(lags), "lag_p50_s": round(pct(lags, 50), 3),
            "lag_p99_s": round(pct(lags, 99), 3),
            "lag_max_s": round(max(lags), 3), "snapshots_in_window": snaps}


def main():
    bin_path = sys.argv[1]
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp()
    os.makedirs(work, exist_ok=True)
    db = os.path.join(work, "big.db")
    t = time.monotonic()
    make_db(db)
    print(f"database: {os.path.getsize(db) / 1e6:.0f} MB "
          f"(made in {time.monotonic() - t:.0f} s)", flush=True)
    for interval in ("24h", "20s"):
        print(run(bin_path, work, db, interval), flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
