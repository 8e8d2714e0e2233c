#!/usr/bin/env python3
"""Replication lag and write overhead of `litekeep replicate` (issue 3).

lag: an app commits one small transaction at a random moment, and the time
until an LTX file holding it is durable in a local file replica is measured
(the replica's level-0 directory is polled every 0.5 ms; a file appears only
after its rename, i.e. when durable). Run at sync-interval 1s and at 0
(wake-on-change).

overhead: the same app commits as fast as it can for a fixed time with and
without `replicate` running; the ratio of commits per second is reported.

Usage: lag_bench.py LITEKEEP_BIN [SAMPLES]"""
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time


def start(bin_path, work, db, sync_interval):
    cfg = os.path.join(work, "litekeep.yml")
    with open(cfg, "w") as f:
        f.write(f"dbs:\n  - path: {db}\n    replica:\n      path: {work}/replica\n"
                f"      sync-interval: {sync_interval}\n")
    log = open(os.path.join(work, "replicate.log"), "w")
    p = subprocess.Popen([bin_path, "replicate", "-config", cfg], stdout=log, stderr=log)
    l0 = os.path.join(work, "replica", "ltx", "0")
    for _ in range(2000):
        if os.path.isdir(l0) and os.listdir(l0):
            break
        time.sleep(0.005)
    return p, l0


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def measure_lag(bin_path, sync_interval, samples):
    work = tempfile.mkdtemp(prefix="litekeep-lag-")
    db = os.path.join(work, "app.db")
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
    p, l0 = start(bin_path, work, db, sync_interval)
    lags = []
    rng = random.Random(1)
    for i in range(samples):
        time.sleep(rng.uniform(0.05, 0.25))
        before = set(os.listdir(l0))
        t0 = time.monotonic()
        conn.execute("INSERT INTO t(v) VALUES(?)", ("x" * 100,))
        while True:
            now = set(os.listdir(l0))
            if any(n.endswith(".ltx") for n in now - before):
                break
            time.sleep(0.0005)
        lags.append(time.monotonic() - t0)
    stop(p)
    conn.close()
    return lags


def commits_per_second(db, seconds):
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)")
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        conn.execute("INSERT INTO t(v) VALUES(?)", ("y" * 200,))
        n += 1
    conn.close()
    return n / seconds


def measure_overhead(bin_path, seconds):
    rates = {}
    for mode in ("without", "with", "without2", "with2"):
        work = tempfile.mkdtemp(prefix="litekeep-ovh-")
        db = os.path.join(work, "app.db")
        sqlite3.connect(db).execute("PRAGMA journal_mode=WAL").fetchall()
        p = None
        if mode.startswith("with") and not mode.startswith("without"):
            p, _ = start(bin_path, work, db, "1s")
        rates[mode] = commits_per_second(db, seconds)
        if p:
            stop(p)
    without = (rates["without"] + rates["without2"]) / 2
    with_ = (rates["with"] + rates["with2"]) / 2
    return without, with_


def measure_cost(bin_path, wal_mb):
    """Replicator CPU seconds and peak RSS while the app writes wal_mb MB of WAL."""
    work = tempfile.mkdtemp(prefix="litekeep-cost-")
    db = os.path.join(work, "app.db")
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
    p, _ = start(bin_path, work, db, "1s")
    blob = os.urandom(3000)
    frames = 0
    target = wal_mb * 1024 * 1024 // 4120
    t0 = time.monotonic()
    while frames < target:
        conn.execute("BEGIN")
        for _ in range(8):
            conn.execute("INSERT INTO t(v) VALUES(?)", (blob,))
        conn.execute("UPDATE t SET v = ? WHERE id = ?", (blob[:100], frames // 3 + 1))
        conn.execute("COMMIT")
        frames += 10
    conn.close()
    time.sleep(1.5)
    st = open(f"/proc/{p.pid}/stat").read().split()
    cpu = (int(st[13]) + int(st[14])) / os.sysconf("SC_CLK_TCK")
    hwm = 0
    for line in open(f"/proc/{p.pid}/status"):
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) / 1024
    stop(p)
    db_mb = os.path.getsize(db) / 1048576
    return cpu, hwm, db_mb, time.monotonic() - t0


def main():
    bin_path = sys.argv[1]
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    print(f"{'sync-interval':<16}{'samples':>8}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}  target")
    for interval, target in (("1s", 1100), ("0s", 50)):
        lags = [x * 1000 for x in measure_lag(bin_path, interval, samples)]
        p50, p99 = percentile(lags, 0.5), percentile(lags, 0.99)
        label = interval + (" (wake)" if interval == "0s" else "")
        verdict = "PASS" if p99 < target else "MISS"
        print(f"{label:<16}{len(lags):>8}{p50:>10.1f}{p99:>10.1f}{max(lags):>10.1f}"
              f"  p99 < {target} ms: {verdict}")
    without, with_ = measure_overhead(bin_path, float(os.environ.get("BENCH_SECONDS", "5")))
    ratio = with_ / without
    wal_mb = int(os.environ.get("BENCH_WAL_MB", "1024"))
    cpu, hwm, db_mb, secs = measure_cost(bin_path, wal_mb)
    print(f"\nshipping ~{wal_mb} MB of WAL ({db_mb:.0f} MB database, {secs:.0f} s): "
          f"replicator CPU {cpu:.2f} s ({cpu * 1024 / wal_mb:.2f} s/GB), peak RSS {hwm:.1f} MB "
          f"(target < 32 MB: {'PASS' if hwm < 32 else 'MISS'})")
    print(f"\ncommits/s without replicate: {without:.0f}   with: {with_:.0f}   "
          f"ratio {ratio:.3f}  (target >= 0.95: {'PASS' if ratio >= 0.95 else 'MISS'})")


if __name__ == "__main__":
    main()
