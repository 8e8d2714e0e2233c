#!/usr/bin/env bash
# GCS upload throughput and requests per sync against the GCS JSON-API test
# server (tests/support/gcs_server.py; docs/benchmarks.md, "GCS via the test
# server"). NOT real GCS: the server is a single-threaded-per-request Python
# program writing to a temporary directory. Throughput: the first
# `replicate -once` of a BENCH_DB_MB database (one snapshot: a resumable
# upload in part-size chunks) against a baseline in the same run, one
# uploadType=media POST of the raw database file from Python's http.client.
# Requests per sync: `replicate` with sync-interval 1s while one small
# commit per second is made for BENCH_BUSY seconds, counted by litekeep's
# own metrics. Unauthenticated (STORAGE_EMULATOR_HOST).
# Env: BENCH_DB_MB (64), BENCH_BUSY (30), BENCH_PART_SIZE (8MiB).
set -euo pipefail
build_dir=$(realpath "${1:?usage: gcs_bench.sh BUILD_DIR}")
src_dir=$(cd "$(dirname "$0")/.." && pwd)
db_mb=${BENCH_DB_MB:-64}
busy=${BENCH_BUSY:-30}
part=${BENCH_PART_SIZE:-8MiB}
work=$(mktemp -d /tmp/gcs-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
wait_for() {  # file, text
  for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}
now() { date +%s.%N; }

port=$(free_port)
python3 "$src_dir/tests/support/gcs_server.py" --port "$port" \
  --data "$work/gcs" --bucket bench >"$work/gcs.log" 2>&1 &
pids+=($!)
wait_for "$work/gcs.log" "listening on"
export STORAGE_EMULATOR_HOST=127.0.0.1:$port

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
echo "machine: $(nproc) cores; database $((db_bytes / 1048576)) MB; part-size $part"

# Baseline: the raw file in one media upload.
read -r code secs < <(python3 - "$port" "$work/app.db" <<'PY'
import http.client, sys, time
body = open(sys.argv[2], "rb").read()
t = time.time()
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("POST", "/upload/storage/v1/b/bench/o?uploadType=media&name=raw.db", body=body,
          headers={"Content-Type": "application/octet-stream"})
r = c.getresponse(); r.read()
print(r.status, f"{time.time() - t:.3f}")
PY
)
[[ $code == 200 ]] || { echo "baseline upload failed: $code" >&2; exit 1; }
echo "baseline media upload of the raw file: ${secs}s, $(python3 -c "print(f'{$db_bytes/1048576/$secs:.1f}')") MB/s"

url="gs://bench/app?partSize=$part"
start=$(now)
"$build_dir/litekeep" replicate -once "$work/app.db" "$url" >"$work/once.log" 2>&1
end=$(now)
ltx_bytes=$("$build_dir/litekeep" ltx -json "$url" 2>/dev/null |
  python3 -c 'import json,sys; print(sum(f["size"] for f in json.load(sys.stdin)))' 2>/dev/null || echo 0)
python3 - "$start" "$end" "$db_bytes" "$ltx_bytes" <<'PY'
import sys
s, e, db, ltx = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t = e - s
print(f"litekeep replicate -once (snapshot): {t:.3f}s, {db/1048576/t:.1f} MB/s of database, "
      f"{ltx/1048576:.1f} MB uploaded ({ltx/1048576/t:.1f} MB/s)")
PY

# Requests per sync.
mport=$(free_port)
cat >"$work/litekeep.yml" <<YML
addr: 127.0.0.1:$mport
dbs:
  - path: $work/app.db
    replica:
      url: $url
      sync-interval: 1s
YML
"$build_dir/litekeep" replicate -config "$work/litekeep.yml" >"$work/rep.log" 2>&1 &
pids+=($!)
wait_for "$work/rep.log" "replicating\|snapshot written\|sync" || true
sleep 3
metric() {  # name regex -> sum of matching samples
  curl -s "http://127.0.0.1:$mport/metrics" | grep -E "^$1" |
    awk '{s += $NF} END {printf "%d\n", s}'
}
req0=$(metric 'litekeep_storage_requests_total')
put0=$(metric 'litekeep_storage_requests_total\{.*kind="put"')
for _ in $(seq "$busy"); do
  python3 -c "import sqlite3,os,sys; c=sqlite3.connect(sys.argv[1]); c.execute('INSERT INTO t(v) VALUES(?)',(os.urandom(200),)); c.commit()" "$work/app.db"
  sleep 1
done
sleep 2
req1=$(metric 'litekeep_storage_requests_total')
put1=$(metric 'litekeep_storage_requests_total\{.*kind="put"')
python3 - "$((req1 - req0))" "$((put1 - put0))" "$busy" <<'PY'
import sys
req, put, busy = map(int, sys.argv[1:])
print(f"busy {busy}s, one commit/s: {busy} commits, {req} "
      f"requests ({put} PUT): {req / busy:.2f} requests per commit")
PY
