#!/usr/bin/python3
"""The VFS rows of the large-database benchmark (docs/benchmarks.md, "Large
databases"): open plus first point query through litekeep.so on an S3
replica, in fresh processes, with the requests counted by
bench/s3_count_proxy.py between the VFS and s3rver (not by litekeep's own
counters); then more point queries in the same process (requests per
query). Every row read is compared with the source database; a difference
exits 1.

usage: large_vfs_probe.py LITEKEEP_SO REPLICA_URL PROXY_PORT SOURCE_DB RUNS QUERIES
(Run with /usr/bin/python3: its sqlite3 module loads extensions. REPLICA_URL
must point at the proxy; table t(id INTEGER PRIMARY KEY, v BLOB)
as bench/large_restore_bench.sh builds it.)
"""
import http.client
import json
import os
import random
import sqlite3
import subprocess
import sys
import time

QUERY = "SELECT id, length(v), hex(substr(v, 1, 16)) FROM t WHERE id = ?"


def counts(port, reset=False):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST" if reset else "GET", "/__reset" if reset else "/__counts")
    body = c.getresponse().read()
    c.close()
    if reset:
        return {}
    flat = {}
    for kinds in json.loads(body).values():
        for kind, v in kinds.items():
            flat[kind] = flat.get(kind, 0) + v["n"]
    return flat


def diff(a, b):
    return {k: b.get(k, 0) - a.get(k, 0) for k in set(a) | set(b) if b.get(k, 0) != a.get(k, 0)}


def child(so, port, keys):
    m = sqlite3.connect(":memory:")
    m.enable_load_extension(True)
    m.load_extension(so)
    c0 = counts(port)
    t0 = time.perf_counter()
    db = sqlite3.connect("file:app.db?vfs=litekeep", uri=True, isolation_level=None)
    t1 = time.perf_counter()
    c1 = counts(port)
    rows = {}
    t2 = time.perf_counter()
    rows[keys[0]] = db.execute(QUERY, (keys[0],)).fetchone()
    t3 = time.perf_counter()
    c2 = counts(port)
    lat = []
    for k in keys[1:]:
        a = time.perf_counter()
        rows[k] = db.execute(QUERY, (k,)).fetchone()
        lat.append(time.perf_counter() - a)
    c3 = counts(port)
    db.close()
    return {"open_s": t1 - t0, "query_s": t3 - t2, "open": diff(c0, c1),
            "first_query": diff(c1, c2), "more": diff(c2, c3), "more_s": lat,
            "rows": {str(k): list(v) if v else None for k, v in rows.items()}}


def main():
    if sys.argv[1] == "child":
        so, port, keys = sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
        print(json.dumps(child(so, port, keys)))
        return 0
    so, url, port, src, runs, queries = sys.argv[1:7]
    port, runs, queries = int(port), int(runs), int(queries)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    n = source.execute("SELECT max(id) FROM t").fetchone()[0]
    rng = random.Random(7)
    env = dict(os.environ, LITEKEEP_REPLICA_URL=url)
    wrong = 0
    firsts, per_query = [], []
    for i in range(runs):
        keys = [rng.randint(1, n) for _ in range(1 + queries)]
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "child", so, str(port),
                            json.dumps(keys)], env=env, capture_output=True, text=True,
                           timeout=900)
        if p.returncode != 0:
            print(f"VFS process failed ({p.returncode}):\n{p.stderr}", file=sys.stderr)
            return 1
        r = json.loads(p.stdout)
        for k in keys:
            want = list(source.execute(QUERY, (k,)).fetchone())
            if r["rows"][str(k)] != want:
                print(f"WRONG RESULT: VFS row {k} is {r['rows'][str(k)]}, source {want}",
                      file=sys.stderr)
                wrong = 1
        first = r["open_s"] + r["query_s"]
        firsts.append(first)
        more_get = r["more"].get("GET", 0)
        per_query.append(more_get / max(1, queries))
        lat = sorted(r["more_s"])
        print(f"  VFS run {i + 1}: open {r['open_s'] * 1e3:.1f} ms + first point query "
              f"{r['query_s'] * 1e3:.1f} ms = {first * 1e3:.1f} ms; requests: open {r['open']}, "
              f"first query {r['first_query']}; {queries} more point queries: "
              f"{r['more']} ({more_get / max(1, queries):.2f} GET/query, median "
              f"{lat[len(lat) // 2] * 1e3 if lat else 0:.1f} ms)")
    firsts.sort()
    print(f"  VFS open + first point query: median {firsts[len(firsts) // 2] * 1e3:.1f} ms "
          f"(min {firsts[0] * 1e3:.1f}, max {firsts[-1] * 1e3:.1f}) over {runs} fresh processes; "
          f"{sum(per_query) / len(per_query):.2f} GET per later point query")
    return wrong


if __name__ == "__main__":
    sys.exit(main())
