#!/usr/bin/env python3
"""VFS over S3 benchmark (issue 7), run by bench/vfs_bench.sh.

Builds a ~100 MB SQLite database (one table with a secondary index, filled
with recursive CTEs), replicates it with `litekeep replicate` to s3rver on
127.0.0.1 (free port, temporary directory), then measures through the
litekeep VFS (build/litekeep.so loaded into Python's sqlite3 module):

  1. cold: time from opening the database to the first point-query result
     (primary key), each run in a fresh process (empty litekeep cache);
  2. latency of cache misses (point queries on new keys) and cache hits
     (the same keys again), medians, with SQLite's own page cache on
     (default) and off (cache_size = 1, so litekeep's cache serves hits);
  3. requests per point query (PRAGMA litekeep_stats deltas);
  4. requests of an idle reader (a connection left open and idle, LIST/GET
     counted, extrapolated to one hour);
  5. a full `litekeep restore` of the same database from the same replica,
     and the ratio of restore time to cold first-query time.

Every row returned through the VFS is compared with the same row of the
source database and every restored file with the source (byte for byte); a
difference, or anything that cannot run, exits 1. Figures never fail it.

Usage: vfs_bench.py BUILD_DIR NODE_MODULES_DIR
       vfs_bench.py child MODE ...   (internal: one measuring process)
Environment: BENCH_VFS_DB_MB (100), BENCH_VFS_COLD_RUNS (5),
BENCH_VFS_QUERIES (200), BENCH_VFS_IDLE_SECONDS (63),
BENCH_VFS_RESTORE_RUNS (3), BENCH_VFS_TXNS (5), BENCH_KEEP (0), TMPDIR."""
import filecmp
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

QUERY = "SELECT id, email, score, created_at, body FROM items WHERE id = ?"


class CannotRun(Exception):
    pass


# ---------------------------------------------------------------- child side --

def parse_stats(text):
    """'txid=… get=3 list=10 …' -> dict of the integer fields."""
    out = {}
    for part in text.split():
        k, _, v = part.partition("=")
        if v.isdigit():
            out[k] = int(v)
        else:
            out[k] = v
    return out


def stats(db):
    return parse_stats(db.execute("PRAGMA litekeep_stats").fetchone()[0])


def load_vfs(so):
    m = sqlite3.connect(":memory:")
    m.enable_load_extension(True)
    m.load_extension(so)
    return m  # keep the handle alive


def open_vfs():
    # isolation_level=None: autocommit, each query its own read transaction.
    return sqlite3.connect("file:app.db?vfs=litekeep", uri=True, isolation_level=None)


def child_cold(so, key):
    t_start = time.perf_counter()
    _keep = load_vfs(so)
    t0 = time.perf_counter()
    db = open_vfs()
    t1 = time.perf_counter()
    s_open = stats(db)
    t2 = time.perf_counter()
    row = db.execute(QUERY, (key,)).fetchone()
    t3 = time.perf_counter()
    s_query = stats(db)
    t4 = time.perf_counter()
    db.close()
    t5 = time.perf_counter()
    return {"load_s": t0 - t_start, "open_s": t1 - t0, "query_s": t3 - t2,
            "close_s": t5 - t4, "inside_s": t5 - t_start,
            "first_result_s": (t1 - t0) + (t3 - t2), "stats_open": s_open,
            "stats_query": s_query, "rows": {str(key): list(row) if row else None}}


def raw_getter(raw):
    """A function doing one timed 4 KiB ranged GET of raw["key"] on s3rver."""
    conn = http.client.HTTPConnection("127.0.0.1", raw["port"], timeout=30)
    rng = random.Random(3)

    def get():
        off = rng.randrange(0, max(1, raw["size"] - 4096))
        t0 = time.perf_counter()
        conn.request("GET", f"/bench/{raw['key']}",
                     headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                              "Range": f"bytes={off}-{off + 4095}"})
        r = conn.getresponse()
        body = r.read()
        t = time.perf_counter() - t0
        if r.status != 206 or len(body) != min(4096, raw["size"] - off):
            raise SystemExit(f"raw GET: status {r.status}, {len(body)} bytes")
        return t
    return get


def timed_queries(db, keys, rows, raw_get=None, raw_lat=None):
    """Runs the point query for each key; returns (latencies, GET deltas).
    With raw_get, one plain ranged GET precedes each query (into raw_lat),
    so that the baseline is measured in the same moments."""
    lat, gets = [], []
    for k in keys:
        if raw_get is not None:
            raw_lat.append(raw_get())
        g0 = stats(db)["get"]
        t0 = time.perf_counter()
        row = db.execute(QUERY, (k,)).fetchone()
        t1 = time.perf_counter()
        lat.append(t1 - t0)
        gets.append(stats(db)["get"] - g0)
        rows[str(k)] = list(row) if row else None
    return lat, gets


def child_warm(so, keys_a, keys_b, warm_key, raw):
    _keep = load_vfs(so)
    raw_get = raw_getter(raw)
    rows = {}
    out = {"raw_get": []}
    for name, keys, sqlite_cache in (("sqlite_cache", keys_a, None),
                                     ("no_sqlite_cache", keys_b, 1)):
        db = open_vfs()
        if sqlite_cache is not None:
            db.execute(f"PRAGMA cache_size = {sqlite_cache}")
        rows[str(warm_key)] = list(db.execute(QUERY, (warm_key,)).fetchone())
        s0 = stats(db)
        miss_lat, miss_gets = timed_queries(db, keys, rows, raw_get, out["raw_get"])
        s1 = stats(db)
        hit_lat, hit_gets = timed_queries(db, keys, rows)  # same keys, same order
        s2 = stats(db)
        out[name] = {"miss_lat": miss_lat, "miss_gets": miss_gets, "hit_lat": hit_lat,
                     "hit_gets": hit_gets, "s0": s0, "s1": s1, "s2": s2}
        db.close()
    out["rows"] = rows
    return out


def child_idle(so, key, seconds):
    _keep = load_vfs(so)
    t_open = time.monotonic()
    db = open_vfs()
    row = db.execute(QUERY, (key,)).fetchone()
    samples = [(time.monotonic() - t_open, stats(db))]
    end = t_open + seconds
    while time.monotonic() < end:
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        samples.append((time.monotonic() - t_open, stats(db)))
    db.close()
    return {"samples": samples, "rows": {str(key): list(row) if row else None}}


def child_main(argv):
    mode, so = argv[0], argv[1]
    if mode == "cold":
        res = child_cold(so, int(argv[2]))
    elif mode == "warm":
        spec = json.loads(argv[2])
        res = child_warm(so, spec["a"], spec["b"], spec["warm"], spec["raw"])
    elif mode == "idle":
        res = child_idle(so, int(argv[2]), float(argv[3]))
    else:
        raise SystemExit(f"unknown child mode {mode}")
    json.dump(res, sys.stdout)


# --------------------------------------------------------------- parent side --

def env_int(name, default):
    v = os.environ.get(name, str(default))
    if not v.isdigit() or int(v) <= 0:
        raise CannotRun(f"{name} must be a positive integer, not {v!r}")
    return int(v)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ms(x):
    """Seconds -> milliseconds, with enough digits for sub-millisecond hits."""
    return f"{x * 1e3:.3f}" if x < 0.01 else f"{x * 1e3:.1f}"


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


class Bench:
    def __init__(self, build_dir, modules):
        self.build = build_dir
        self.lk = os.path.join(build_dir, "litekeep")
        self.so = os.path.join(build_dir, "litekeep.so")
        self.modules = modules
        self.db_mb = env_int("BENCH_VFS_DB_MB", 100)
        self.cold_runs = env_int("BENCH_VFS_COLD_RUNS", 5)
        self.queries = env_int("BENCH_VFS_QUERIES", 200)
        self.idle_s = env_int("BENCH_VFS_IDLE_SECONDS", 63)
        self.restore_runs = env_int("BENCH_VFS_RESTORE_RUNS", 3)
        self.txns = int(os.environ.get("BENCH_VFS_TXNS", "5"))
        self.keep = os.environ.get("BENCH_KEEP", "0") == "1"
        self.work = tempfile.mkdtemp(prefix="litekeep-vfs-bench-")
        self.src = os.path.join(self.work, "app.db")
        self.s3rver = None
        self.replicator = None
        self.idle_proc = None
        self.wrong = []
        self.t_start = time.monotonic()
        for p in (self.lk, self.so):
            if not os.access(p, os.X_OK if p == self.lk else os.R_OK):
                raise CannotRun(f"{p} missing (build litekeep first)")

    # ------------------------------------------------------------ plumbing --
    def cleanup(self):
        for p in (self.idle_proc, self.replicator, self.s3rver):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.keep:
            print(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def elapsed(self):
        return time.monotonic() - self.t_start

    def child_env(self):
        env = dict(os.environ)
        env.update({"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER",
                    "LITEKEEP_REPLICA_URL": self.url})
        return env

    def run_child(self, *args, background=False):
        cmd = ["/usr/bin/python3", os.path.abspath(__file__), "child", args[0], self.so,
               *[str(a) for a in args[1:]]]
        if background:
            return subprocess.Popen(cmd, env=self.child_env(), cwd=self.work,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=self.child_env(), cwd=self.work, capture_output=True,
                           text=True, timeout=600)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise CannotRun(f"VFS {args[0]} process failed ({p.returncode}):\n{p.stderr}")
        res = json.loads(p.stdout)
        res["wall_s"] = wall
        return res

    def finish_child(self, p):
        out, err = p.communicate(timeout=600)
        if p.returncode != 0:
            raise CannotRun(f"VFS process failed ({p.returncode}):\n{err}")
        return json.loads(out)

    def check_rows(self, rows, what):
        src = sqlite3.connect(f"file:{self.src}?mode=ro", uri=True)
        for k, got in rows.items():
            want = src.execute(QUERY, (int(k),)).fetchone()
            want = list(want) if want else None
            if got != want:
                self.wrong.append(f"{what}: id {k}: VFS returned {str(got)[:80]}, "
                                  f"source has {str(want)[:80]}")
        src.close()

    # ------------------------------------------------------------- machine --
    def print_machine(self):
        cpu = "unknown"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) / 1048576
        ver = subprocess.run([self.lk, "version"], capture_output=True, text=True).stdout
        print(f"machine: {os.cpu_count()} CPUs ({cpu}), {mem:.1f} GiB RAM, "
              f"kernel {os.uname().release}")
        print(f"load:    {self.loadavg()} (1/5/15 min) at start")
        print(f"tools:   SQLite {sqlite3.sqlite_version} (Python sqlite3), "
              f"node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}, "
              f"{ver.splitlines()[0] if ver else 'litekeep ?'}")

    @staticmethod
    def loadavg():
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])

    # ------------------------------------------------------------ database --
    def create_database(self):
        t0 = time.monotonic()
        # ~490 bytes per row with its index entry: 2000 rows per MB.
        self.rows = self.db_mb * 2000
        db = sqlite3.connect(self.src, isolation_level=None)
        db.executescript(f"""
PRAGMA page_size = 4096;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE items(
  id INTEGER PRIMARY KEY, email TEXT NOT NULL, score INTEGER NOT NULL,
  created_at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX items_email ON items(email);
BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {self.rows})
INSERT INTO items
SELECT i, 'u' || i || '.' || lower(hex(randomblob(4))) || '@example.com',
       abs(random()) % 1000000, 1600000000 + abs(random()) % 100000000,
       hex(randomblob(150 + abs(random()) % 100))
FROM c;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
""")
        db.close()
        size = os.path.getsize(self.src)
        print(f"database: {size / 1e6:.1f} MB ({size // 4096} pages of 4 KiB), table items "
              f"({self.rows} rows, INTEGER PRIMARY KEY + index on email), "
              f"built in {time.monotonic() - t0:.1f} s")

    # -------------------------------------------------------------- s3rver --
    def start_s3rver(self):
        port = free_port()
        data = os.path.join(self.work, "s3rver")
        os.mkdir(data)
        log_path = os.path.join(self.work, "s3rver.log")
        log = open(log_path, "w")
        self.s3rver = subprocess.Popen(
            ["node", "--openssl-legacy-provider",
             os.path.join(self.modules, "s3rver", "bin", "s3rver.js"), "-d", data,
             "-a", "127.0.0.1", "-p", str(port), "--configure-bucket", "bench"],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            with open(log_path) as f:
                if "S3rver listening" in f.read():
                    break
            if self.s3rver.poll() is not None or time.monotonic() > deadline:
                with open(log_path) as f:
                    sys.stderr.write(f.read())
                raise CannotRun("s3rver did not start")
            time.sleep(0.05)
        self.port = port
        self.url = (f"s3://bench/app?endpoint=http://127.0.0.1:{port}"
                    f"&forcePathStyle=true&region=us-east-1")
        print(f"s3rver:  127.0.0.1:{port}, pid {self.s3rver.pid}, data in {data}")

    # ----------------------------------------------------------- replicate --
    def ltx_files(self):
        p = subprocess.run([self.lk, "ltx", self.url], env=self.child_env(),
                           capture_output=True, text=True)
        return [l for l in p.stdout.splitlines() if l.split() and l.split()[0].isdigit()]

    def replicate(self):
        log_path = os.path.join(self.work, "replicate.log")
        log = open(log_path, "w")
        t0 = time.monotonic()
        self.replicator = subprocess.Popen([self.lk, "replicate", self.src, self.url],
                                           env=self.child_env(), stdout=log,
                                           stderr=subprocess.STDOUT)
        while not self.ltx_files():
            if self.replicator.poll() is not None or time.monotonic() - t0 > 300:
                with open(log_path) as f:
                    sys.stderr.write(f.read())
                raise CannotRun("litekeep replicate wrote no snapshot to s3rver")
            time.sleep(0.2)
        snap_s = time.monotonic() - t0
        # A few small transactions, so the replica holds incremental L0 files
        # on top of the snapshot (the VFS merges their page indexes).
        db = sqlite3.connect(self.src, isolation_level=None)
        db.execute("PRAGMA busy_timeout = 5000")
        rng = random.Random(7)
        for n in range(self.txns):
            db.execute("BEGIN")
            for _ in range(20):
                db.execute("UPDATE items SET score = score + 1, body = hex(randomblob(120)) "
                           "WHERE id = ?", (rng.randint(1, self.rows),))
            db.execute("COMMIT")
            time.sleep(0.3)
        db.close()
        self.replicator.send_signal(signal.SIGTERM)
        rc = self.replicator.wait(timeout=120)
        self.replicator = None
        if rc != 0:
            with open(log_path) as f:
                sys.stderr.write(f.read())
            raise CannotRun(f"litekeep replicate exited with {rc} after SIGTERM")
        db = sqlite3.connect(self.src, isolation_level=None)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        shutil.rmtree(os.path.join(self.work, ".app.db-litekeep"), ignore_errors=True)
        files = self.ltx_files()
        stored = sum(os.path.getsize(os.path.join(d, f))
                     for d, _, fs in os.walk(os.path.join(self.work, "s3rver")) for f in fs)
        print(f"replica: snapshot in s3rver after {snap_s:.1f} s; {len(files)} LTX files "
              f"({self.txns} write transactions after the snapshot), "
              f"{stored / 1e6:.1f} MB stored by s3rver")

    # ---------------------------------------------------------- measuring --
    def measure_raw_s3(self):
        """Baseline: plain HTTP requests to s3rver from Python (keep-alive, no
        signing, which s3rver does not check): a LIST of the replica's level-0
        prefix and 4 KiB ranged GETs at random offsets of its largest object."""
        host, port = "127.0.0.1", self.port
        conn = http.client.HTTPConnection(host, port, timeout=30)
        hdr = {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}

        def request(path, extra=None):
            conn.request("GET", path, headers={**hdr, **(extra or {})})
            r = conn.getresponse()
            body = r.read()
            if r.status not in (200, 206):
                raise CannotRun(f"s3rver answered {r.status} to GET {path}")
            return body

        objects = []
        listing = request("/bench?list-type=2&prefix=app/").decode()
        for m in re.finditer(r"<Key>([^<]+)</Key>.*?<Size>(\d+)</Size>", listing):
            objects.append((int(m.group(2)), m.group(1)))
        if not objects:
            raise CannotRun("s3rver lists no objects under app/")
        size, key = max(objects)
        rng = random.Random(5)
        lists, gets = [], []
        for _ in range(20):
            t0 = time.perf_counter()
            request("/bench?list-type=2&prefix=app/ltx/0/")
            lists.append(time.perf_counter() - t0)
        for _ in range(50):
            off = rng.randrange(0, max(1, size - 4096))
            t0 = time.perf_counter()
            body = request(f"/bench/{key}", {"Range": f"bytes={off}-{off + 4095}"})
            gets.append(time.perf_counter() - t0)
            if len(body) != min(4096, size - off):
                raise CannotRun(f"s3rver returned {len(body)} bytes for a 4 KiB range")
        conn.close()
        self.raw = {"list": lists, "get": gets, "key": key, "size": size}
        print(f"  raw s3rver: LIST median {ms(median(lists))} ms, 4 KiB ranged GET median "
              f"{ms(median(gets))} ms (keep-alive HTTP from Python; {len(objects)} objects)")

    def cold_cli(self, key):
        """The sqlite3 shell, cold: start, .load, .open through the VFS, one point
        query, exit. Returns the wall time; checks the row against the source."""
        sql = f"SELECT id, email, score, created_at, body FROM items WHERE id = {key};"
        t0 = time.perf_counter()
        p = subprocess.run(["sqlite3", ":memory:", f".load {self.so}",
                            ".open 'file:app.db?vfs=litekeep'", sql],
                           env=self.child_env(), cwd=self.work, capture_output=True,
                           text=True, timeout=300)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise CannotRun(f"sqlite3 shell through the VFS failed ({p.returncode}):\n{p.stderr}")
        want = subprocess.run(["sqlite3", f"file:{self.src}?mode=ro", sql],
                              capture_output=True, text=True).stdout
        if p.stdout != want or not want:
            self.wrong.append(f"sqlite3 shell, id {key}: VFS returned {p.stdout[:80]!r}, "
                              f"source has {want[:80]!r}")
        return wall

    def measure_cold(self):
        rng = random.Random(11)
        self.cold = []
        self.cold_cli_s = []
        for i in range(self.cold_runs):
            key = rng.randint(1, self.rows)
            t = self.cold_cli(key)
            self.cold_cli_s.append(t)
            print(f"  cold sqlite3 shell run {i + 1}: {ms(t)} ms (start, .load, .open, query, exit)")
            key = rng.randint(1, self.rows)
            r = self.run_child("cold", key)
            self.check_rows(r["rows"], f"cold run {i + 1}")
            self.cold.append(r)
            print(f"  cold run {i + 1}: open {ms(r['open_s'])} ms + first query "
                  f"{ms(r['query_s'])} ms = {ms(r['first_result_s'])} ms; process "
                  f"{ms(r['wall_s'])} ms (.so load {ms(r['load_s'])} ms, close "
                  f"{ms(r['close_s'])} ms, outside Python code {ms(r['wall_s'] - r['inside_s'])} ms); open: {r['stats_open']['list']} LIST, "
                  f"{r['stats_open']['get']} GET, {r['stats_open']['head']} HEAD; query: "
                  f"{r['stats_query']['get'] - r['stats_open']['get']} GET")

    def measure_warm(self):
        rng = random.Random(13)
        keys = rng.sample(range(1, self.rows + 1), 2 * self.queries + 1)
        spec = {"warm": keys[0], "a": keys[1:self.queries + 1],
                "b": keys[self.queries + 1:],
                "raw": {"port": self.port, "key": self.raw["key"], "size": self.raw["size"]}}
        r = self.run_child("warm", json.dumps(spec))
        self.check_rows(r["rows"], "warm queries")
        self.warm = r

    def start_idle(self):
        self.idle_proc = self.run_child("idle", random.Random(17).randint(1, self.rows),
                                        self.idle_s, background=True)

    def finish_idle(self):
        r = self.finish_child(self.idle_proc)
        self.check_rows(r["rows"], "idle reader")
        self.idle = r

    def measure_restore(self):
        out = os.path.join(self.work, "restored.db")
        self.restore = {}
        for variant, extra in (("litekeep restore (quick check)", []),
                               ("litekeep restore -integrity-check none",
                                ["-integrity-check", "none"])):
            times = []
            for i in range(self.restore_runs):
                for suffix in ("", ".tmp", "-wal", "-shm"):
                    if os.path.exists(out + suffix):
                        os.remove(out + suffix)
                t0 = time.perf_counter()
                p = subprocess.run([self.lk, "restore", *extra, "-o", out, self.url],
                                   env=self.child_env(), capture_output=True, text=True)
                t = time.perf_counter() - t0
                if p.returncode != 0:
                    raise CannotRun(f"{variant} failed ({p.returncode}):\n{p.stderr}")
                same = filecmp.cmp(self.src, out, shallow=False)
                if not same:
                    self.wrong.append(f"{variant} run {i + 1}: restored file differs "
                                      "from the source database")
                times.append(t)
                print(f"  {variant} run {i + 1}: {t:.3f} s, "
                      f"{'identical to' if same else 'DIFFERENT from'} the source")
            self.restore[variant] = times
        db = sqlite3.connect(f"file:{out}?immutable=1", uri=True)
        t0 = time.perf_counter()
        qc = db.execute("PRAGMA quick_check").fetchone()[0]
        self.quick_check_s = time.perf_counter() - t0
        db.close()
        if qc != "ok":
            self.wrong.append(f"PRAGMA quick_check of the restored file: {qc}")
        print(f"  PRAGMA quick_check of the restored file alone (Python sqlite3): "
              f"{self.quick_check_s:.3f} s")

    # -------------------------------------------------------------- report --
    def report(self):
        cold_first = [r["first_result_s"] for r in self.cold]
        cold_open = [r["open_s"] for r in self.cold]
        cold_query = [r["query_s"] for r in self.cold]
        cold_wall = [r["wall_s"] for r in self.cold]
        c0 = self.cold[0]
        open_req = (f"{c0['stats_open']['list']} LIST + {c0['stats_open']['get']} GET + "
                    f"{c0['stats_open']['head']} HEAD")
        q_gets = [r["stats_query"]["get"] - r["stats_open"]["get"] for r in self.cold]
        rows = []
        raw_get = self.warm["raw_get"]
        rows.append(("baseline: one 4 KiB ranged GET to s3rver (plain HTTP, keep-alive)",
                     f"{ms(median(raw_get))} ms", "1 GET",
                     f"median of {len(raw_get)}, one before each cache-miss query; "
                     f"a LIST of level 0 alone: {ms(median(self.raw['list']))} ms"))
        rows.append(("cold: open + first point query (by id), fresh process",
                     f"{ms(median(cold_first))} ms",
                     f"open {open_req}; query {median(q_gets):g} GET",
                     f"median of {len(cold_first)}; open {ms(median(cold_open))} ms + query "
                     f"{ms(median(cold_query))} ms; min {ms(min(cold_first))} ms"))
        rows.append(("cold: sqlite3 shell process (start, .load, .open, point query, exit)",
                     f"{ms(median(self.cold_cli_s))} ms", "as above",
                     f"median of {len(self.cold_cli_s)}; min {ms(min(self.cold_cli_s))} ms"))
        rows.append(("cold: whole Python process (start, load .so, open, query, exit)",
                     f"{ms(median(cold_wall))} ms", "-",
                     f"median of {len(cold_wall)}; of which interpreter start and exit "
                     f"{ms(median([r['wall_s'] - r['inside_s'] for r in self.cold]))} ms, "
                     f".so load {ms(median([r['load_s'] for r in self.cold]))} ms, close "
                     f"{ms(median([r['close_s'] for r in self.cold]))} ms"))
        for name, label in (("sqlite_cache", "SQLite page cache on (default)"),
                            ("no_sqlite_cache", "SQLite cache_size = 1: litekeep cache")):
            w = self.warm[name]
            n = len(w["miss_lat"])
            zero = sum(1 for g in w["miss_gets"] if g == 0)
            rows.append((f"cache miss: point query on a new key, {label}",
                         f"{ms(median(w['miss_lat']))} ms",
                         f"{sum(w['miss_gets']) / n:.2f} GET/query",
                         f"median of {n}; p90 {ms(pct(w['miss_lat'], 0.9))} ms; "
                         f"{median(w['miss_lat']) / median(raw_get):.1f}x a raw GET; "
                         f"{zero} queries needed no GET"))
            lk_hits = (w["s2"]["cache_hits"] - w["s1"]["cache_hits"]) / n
            rows.append((f"cache hit: same keys again, {label}",
                         f"{ms(median(w['hit_lat']))} ms",
                         f"{sum(w['hit_gets']) / n:.2f} GET/query",
                         f"median of {n}; p90 {ms(pct(w['hit_lat'], 0.9))} ms; "
                         f"{lk_hits:.1f} litekeep cache hits/query"))
        # Idle reader: request deltas after the first query.
        samples = self.idle["samples"]
        t_first, s_first = samples[0]
        t_last, s_last = samples[-1]
        window = t_last - t_first
        d = {k: s_last[k] - s_first[k] for k in ("list", "get", "head")}
        list_times = [t for (t, s), (_, p) in zip(samples[1:], samples) if s["list"] > p["list"]]
        gaps = [b - a for a, b in zip(list_times, list_times[1:])]
        per_hour = (d["list"] + d["get"] + d["head"]) * 3600 / window
        steady = f"; last gap between LISTs {gaps[-1]:.0f} s = {3600 / gaps[-1]:.0f} LIST/h" \
            if gaps else ""
        rows.append((f"idle reader: connection open, idle {window:.0f} s",
                     f"{per_hour:.0f} requests/h (extrapolated)",
                     f"{d['list']} LIST + {d['get']} GET + {d['head']} HEAD in {window:.0f} s",
                     f"LISTs at {', '.join(f'{t:.0f}' for t in list_times)} s after open"
                     f"{steady}; extrapolation of a {window:.0f} s window includes the back-off "
                     "ramp"))
        first = median(cold_first)
        for variant, times in self.restore.items():
            rows.append((f"full {variant}",
                         f"{median(times) * 1e3:.0f} ms",
                         "-",
                         f"median of {len(times)}; {median(times) / first:.1f}x cold first query"
                         + ("" if "none" in variant else
                            f"; PRAGMA quick_check alone takes {ms(self.quick_check_s)} ms")))
        print()
        print("| measurement | figure | requests | notes |")
        print("|---|---:|---|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        print()
        quick = median(self.restore["litekeep restore (quick check)"])
        print(f"cold first query vs full restore (quick check): {ms(first)} ms vs "
              f"{ms(quick)} ms, restore takes {quick / first:.1f}x as long")
        print(f"idle reader: {d['list']} LIST, {d['get']} GET, {d['head']} HEAD in "
              f"{window:.0f} s -> {per_hour:.0f} requests/h if extrapolated linearly{steady}")

    def main(self):
        print(f"litekeep VFS benchmark: ~{self.db_mb} MB database over s3rver (loopback S3)")
        self.print_machine()
        self.create_database()
        self.start_s3rver()
        self.replicate()
        print("measuring:")
        self.measure_raw_s3()
        self.measure_cold()
        print(f"  idle reader started ({self.idle_s} s, in the background)")
        self.start_idle()
        time.sleep(2)  # let it open before the next process starts
        self.measure_warm()
        self.measure_restore()
        self.finish_idle()
        self.report()
        print(f"load:    {self.loadavg()} (1/5/15 min) at end; benchmark took "
              f"{self.elapsed():.0f} s")
        if self.wrong:
            for w in self.wrong:
                print(f"WRONG RESULT: {w}", file=sys.stderr)
            return 1
        print("every row read through the VFS equals the source database's row; every "
              "restore is byte-identical to the source")
        return 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "child":
        child_main(sys.argv[2:])
        return 0
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        bench = Bench(os.path.realpath(sys.argv[1]), sys.argv[2])
    except CannotRun as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        return bench.main()
    except CannotRun as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        bench.cleanup()


if __name__ == "__main__":
    sys.exit(main())
