#!/usr/bin/env python3
"""Write overhead of the replicator as the application feels it, litekeep and
Litestream 0.3.13 side by side (docs/benchmarks.md, "Write overhead").

The application is bench/overhead_writer (C++, system SQLite, its defaults):
a tight loop of one-row commits (200-byte rows, synchronous=NORMAL) on a new
database, starting 2 s after the replicator started. Two shapes: a burst of
BENCH_BURST commits (default 20 000) and a sustained run of BENCH_SUSTAINED
commits (default 200 000). Each round runs, in this order and each on a fresh
database: the app alone, with `litekeep replicate` at sync-interval 1s, with
litekeep at sync-interval 0 (wake-on-change), with `litestream replicate` at
sync-interval 1s. Both replicate to a local file replica. After each
replicated run the replicator is stopped (SIGTERM, final sync) and the
replica restored; the restored row count must equal the app's (else exit 1).

Prints per-run figures, then medians per variant with the rate ratio against
the app alone in the same rounds, and litekeep's longest hold of the write
lock (from its debug log), the part of a stall litekeep is responsible for.

BENCH_DISK_STRESS=1 runs a background writer for the whole benchmark (64 MiB
written and fdatasync'ed in a loop, in the same file system) so that the
disk stalls often, as a busy shared disk does; it is stopped by PID at the
end.

Usage: write_overhead_bench.py BUILD_DIR"""
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

DELAY_S = 2.0


def parse(line):
    out = {}
    for kv in line.split():
        k, v = kv.split("=")
        out[k] = float(v)
    return out


def proc_cpu(pid):
    st = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")


def write_config(work, db, tool, interval):
    cfg = os.path.join(work, f"{tool}.yml")
    with open(cfg, "w") as f:
        if tool == "litekeep":  # debug: it logs each hold of the write lock
            f.write("logging:\n  level: debug\n")
        f.write(f"dbs:\n  - path: {db}\n    replicas:\n      - type: file\n"
                f"        path: {work}/replica\n        sync-interval: {interval}\n")
        if tool == "litekeep" and os.environ.get("BENCH_LK_EXTRA"):
            f.write(os.environ["BENCH_LK_EXTRA"].replace("\\n", "\n") + "\n")
    return cfg


def run_one(build, litestream, variant, commits):
    """Returns the writer's figures plus replicator CPU, or raises."""
    work = tempfile.mkdtemp(prefix="litekeep-wov-")
    rep = None
    try:
        db = os.path.join(work, "app.db")
        c = sqlite3.connect(db)
        c.execute("PRAGMA journal_mode=WAL").fetchall()
        c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
        c.commit()
        c.close()
        rep = None
        tool, interval = {
            "alone": (None, None),
            "litekeep 1s": ("litekeep", "1s"),
            "litekeep wake": ("litekeep", "0s"),
            "litestream 1s": ("litestream", "1s"),
            "before 1s": ("litekeep", "1s"),
            "before wake": ("litekeep", "0s"),
        }[variant]
        if tool:
            cfg = write_config(work, db, tool, interval)
            exe = {"litekeep": os.path.join(build, "litekeep"),
                   "litestream": litestream}[tool]
            if variant.startswith("before"):
                exe = os.environ["LITEKEEP_BEFORE"]
            log = open(os.path.join(work, "replicate.log"), "w")
            rep = subprocess.Popen([exe, "replicate", "-config", cfg],
                                   stdout=log, stderr=log)
        start_ms = int((time.time() + DELAY_S) * 1000)
        out = subprocess.run(
            [os.path.join(build, "bench", "overhead_writer"), db, str(commits),
             str(start_ms)], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"{variant}: writer failed: {out.stderr.strip()}")
        fig = parse(out.stdout)
        fig["rep_cpu"] = 0.0
        if rep:
            time.sleep(1.2)  # one more sync interval
            fig["rep_cpu"] = proc_cpu(rep.pid)
            rep.send_signal(signal.SIGTERM)
            rep.wait(timeout=60)
            log.close()
            held = [float(line.split("held the write lock for ")[1].split()[0])
                    for line in open(os.path.join(work, "replicate.log"))
                    if "held the write lock for " in line]
            fig["lock_max_ms"] = max(held, default=0.0)
            fig["lock_n"] = len(held)
            fig["put_off"] = open(os.path.join(work, "replicate.log")).read().count(
                "the WAL restarts at a later checkpoint")
            if tool == "litekeep":
                # Only the initial snapshot: litekeep's own checkpoints must
                # never cost one (docs/architecture.md).
                snaps = open(os.path.join(work, "replicate.log")).read().count(
                    "snapshot written as TXID")
                if snaps != 1:
                    raise RuntimeError(f"{variant}: {snaps} snapshots written, expected 1")
            if tool == "litekeep":
                restored = os.path.join(work, "restored.db")
                r = subprocess.run(
                    [os.path.join(build, "litekeep"), "restore", "-o", restored,
                     f"file://{work}/replica"], capture_output=True, text=True)
                if r.returncode != 0:
                    raise RuntimeError(f"{variant}: restore failed: {r.stderr.strip()}")
                n = sqlite3.connect(restored).execute(
                    "SELECT count(*) FROM t").fetchone()[0]
                if n != commits:
                    raise RuntimeError(
                        f"{variant}: restored {n} rows, the app committed {commits}")
        return fig
    finally:
        if rep is not None and rep.poll() is None:  # a run that failed
            rep.kill()
            rep.wait()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)


def start_disk_stress():
    """With BENCH_DISK_STRESS=1: a writer that keeps the disk busy (see the
    module doc); returns (process, its directory) or (None, None)."""
    if os.environ.get("BENCH_DISK_STRESS") != "1":
        return None, None
    d = tempfile.mkdtemp(prefix="litekeep-stress-")
    target = os.path.join(d, "stress")
    proc = subprocess.Popen(
        ["/bin/sh", "-c", f"while :; do dd if=/dev/zero of='{target}' bs=1M "
         "count=64 conv=fdatasync 2>/dev/null; done"],
        start_new_session=True)
    print(f"disk stress: pid {proc.pid}, writing 64 MiB + fdatasync in a loop")
    return proc, d


def stop_disk_stress(proc, d):
    if proc is None:
        return
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    shutil.rmtree(d, ignore_errors=True)


def main():
    stress, stress_dir = start_disk_stress()
    try:
        return run_all()
    finally:
        stop_disk_stress(stress, stress_dir)


def run_all():
    build = os.path.realpath(sys.argv[1])
    litestream = os.environ.get("LITESTREAM") or os.path.join(
        build, "npm/node_modules/@flydotio/litestream-linux-x64/litestream")
    variants = ["alone", "litekeep 1s", "litekeep wake"]
    if os.access(litestream, os.X_OK):
        variants.append("litestream 1s")
    else:
        print(f"litestream not found at {litestream}: litekeep only")
    if os.environ.get("LITEKEEP_BEFORE"):  # an older litekeep binary, to compare
        variants += ["before 1s", "before wake"]
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    shapes = [("burst", int(os.environ.get("BENCH_BURST", "20000"))),
              ("sustained", int(os.environ.get("BENCH_SUSTAINED", "200000")))]
    shapes = [s for s in shapes if s[1] > 0]
    failed = False
    for shape, commits in shapes:
        print(f"\n## {shape}: {commits} commits starting {DELAY_S:.0f} s after the "
              f"replicator, new database, {rounds} alternating rounds")
        results = {v: [] for v in variants}
        for rnd in range(rounds):
            for v in variants:
                try:
                    fig = run_one(build, litestream, v, commits)
                except Exception as e:  # a run that cannot finish fails the bench
                    print(f"round {rnd + 1} {v:<14} FAILED: {e}")
                    failed = True
                    continue
                results[v].append(fig)
                print(f"round {rnd + 1} {v:<14} rate {fig['rate']:>7.0f}/s  "
                      f"p50 {fig['p50_ms'] * 1000:>6.1f} us  p99 {fig['p99_ms'] * 1000:>7.1f} us  "
                      f"max {fig['max_ms']:>7.2f} ms  app cpu {fig['cpu_s']:.2f} s  "
                      f"replicator cpu {fig['rep_cpu']:.2f} s"
                      + (f"  write lock held {fig['lock_n']}x, max {fig['lock_max_ms']:.1f} ms"
                         + (f", restart put off {fig['put_off']}x" if fig.get("put_off") else "")
                         if fig.get("lock_n") else ""),
                      flush=True)
        alone = [f["rate"] for f in results["alone"]]
        if not alone:
            continue
        print(f"\n{'variant':<15}{'rate/s':>9}{'ratio':>7}{'ratio range':>14}"
              f"{'p50 us':>8}{'p99 us':>9}{'max ms':>9}{'app cpu s':>10}{'repl cpu s':>11}")
        for v in variants:
            rs = results[v]
            if not rs:
                continue
            med = lambda k: statistics.median(f[k] for f in rs)
            ratios = [f["rate"] / a for f, a in zip(rs, alone)]
            print(f"{v:<15}{med('rate'):>9.0f}{med('rate') / statistics.median(alone):>7.2f}"
                  f"{min(ratios):>7.2f}-{max(ratios):<6.2f}{med('p50_ms') * 1000:>8.1f}"
                  f"{med('p99_ms') * 1000:>9.1f}{max(f['max_ms'] for f in rs):>9.2f}"
                  f"{med('cpu_s'):>10.2f}{med('rep_cpu'):>11.2f}")
        for v in ("litekeep 1s", "litekeep wake"):
            rs = results.get(v)
            if not rs:
                continue
            ratio = statistics.median(f["rate"] for f in rs) / statistics.median(alone)
            ls = results.get("litestream 1s", [])
            ls_ratio = (statistics.median(f["rate"] for f in ls) / statistics.median(alone)
                        if ls else 0)
            stall = max(f["max_ms"] for f in rs)
            hold = max(f.get("lock_max_ms", 0.0) for f in rs)
            alone_stall = max(f["max_ms"] for f in results["alone"])
            ok = ratio >= 0.9 and ratio >= ls_ratio and stall <= 50
            print(f"{shape} {v}: ratio {ratio:.2f} (litestream {ls_ratio:.2f}), "
                  f"longest stall {stall:.1f} ms: "
                  f"{'PASS' if ok else 'MISS'} (target ratio >= 0.9 and >= litestream's, "
                  f"stall <= 50 ms); longest write-lock hold {hold:.1f} ms: "
                  f"{'PASS' if hold <= 50 else 'MISS'} (<= 50 ms; the app alone "
                  f"stalled up to {alone_stall:.1f} ms)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
