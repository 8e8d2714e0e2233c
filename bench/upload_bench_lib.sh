# Shared parts of the upload benchmarks (sourced, not run): a private work
# directory removed on exit with every server started, free ports, waiting
# for a ready line, the test database, the timed `replicate -once` of it,
# and requests per commit from litekeep's own metrics. Used by
# bench/webdav_bench.sh, abs_bench.sh and gcs_bench.sh.
# The sourcing script sets build_dir, db_mb, busy before calling these.

bench_setup() {  # name -> sets $work, installs the cleanup trap
  work=$(mktemp -d "/tmp/$1-bench.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
wait_for() {  # file, text
  for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}
now() { date +%s.%N; }

# $work/app.db: db_mb MB of half-random rows, checkpointed; sets $db_bytes.
bench_make_db() {
  python3 - "$work/app.db" "$db_mb" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA journal_mode=WAL")
c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
for _ in range(int(sys.argv[2])):
    c.executemany("INSERT INTO t(v) VALUES(?)",
                  [(os.urandom(600) + bytes(400),) for _ in range(1000)])
    c.commit()
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
PY
  db_bytes=$(stat -c %s "$work/app.db")
}

# The first `replicate -once` of a database (default $work/app.db) to url
# (one L9 snapshot), timed, with the bytes uploaded.
bench_snapshot_upload() {  # url [db]
  local start end ltx_bytes db=${2:-$work/app.db}
  start=$(now)
  "$build_dir/litekeep" replicate -once "$db" "$1" >"$work/once.log" 2>&1
  end=$(now)
  ltx_bytes=$("$build_dir/litekeep" ltx -json "$1" 2>/dev/null |
    python3 -c 'import json,sys; print(sum(f["size"] for f in json.load(sys.stdin)))' 2>/dev/null || echo 0)
  python3 - "$start" "$end" "$db_bytes" "$ltx_bytes" <<'PY'
import sys
s, e, db, ltx = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t = e - s
print(f"litekeep replicate -once (snapshot): {t:.3f}s, {db/1048576/t:.1f} MB/s of database, "
      f"{ltx/1048576:.1f} MB uploaded ({ltx/1048576/t:.1f} MB/s)")
PY
}

# `replicate` to url with sync-interval 1s while one 200-byte commit per
# second is made for $busy seconds: requests per commit by kind.
bench_requests_per_commit() {  # url
  local mport req0 req1 kinds0 kinds1
  mport=$(free_port)
  cat >"$work/litekeep.yml" <<YML
addr: 127.0.0.1:$mport
dbs:
  - path: $work/app.db
    replica:
      url: $1
      sync-interval: 1s
YML
  "$build_dir/litekeep" replicate -config "$work/litekeep.yml" >"$work/rep.log" 2>&1 &
  pids+=($!)
  wait_for "$work/rep.log" "replicating\|snapshot written\|sync" || true
  sleep 3
  metrics() { curl -s "http://127.0.0.1:$mport/metrics" | grep -E '^litekeep_storage_requests_total'; }
  kinds0=$(metrics)
  for _ in $(seq "$busy"); do
    python3 -c "import sqlite3,os,sys; c=sqlite3.connect(sys.argv[1]); c.execute('INSERT INTO t(v) VALUES(?)',(os.urandom(200),)); c.commit()" "$work/app.db"
    sleep 1
  done
  sleep 2
  kinds1=$(metrics)
  python3 - "$busy" "$kinds0" "$kinds1" <<'PY'
import re, sys
busy = int(sys.argv[1])
def parse(text):
    out = {}
    for line in text.splitlines():
        m = re.search(r'kind="([a-z]+)"', line)
        if m and 'outcome="error"' not in line:
            out[m.group(1)] = out.get(m.group(1), 0) + float(line.split()[-1])
    return out
a, b = parse(sys.argv[2]), parse(sys.argv[3])
d = {k: int(b.get(k, 0) - a.get(k, 0)) for k in sorted(set(a) | set(b))}
total = sum(d.values())
detail = ", ".join(f"{v} {k}" for k, v in d.items() if v)
print(f"busy {busy}s, one commit/s: {busy} commits, {total} requests ({detail}): "
      f"{total / busy:.2f} requests per commit")
PY
}
