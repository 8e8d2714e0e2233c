#!/usr/bin/env bash
# Azure Blob upload throughput and requests per sync (docs/benchmarks.md,
# "Azure Blob via Azurite"). One Azurite on 127.0.0.1 (free port, temporary
# directory). Throughput: the first `replicate -once` of a BENCH_DB_MB
# database (one snapshot: Put Block x N + Put Block List) against a baseline
# in the same run, one plain Put Blob of the raw database file from Python's
# http.client (no compression, no blocks). Requests per sync: `replicate`
# with sync-interval 1s while one small commit per second is made for
# BENCH_BUSY seconds, counted by litekeep's own metrics.
# Env: BENCH_DB_MB (64), BENCH_BUSY (30), BENCH_PART_SIZE (4MiB).
set -euo pipefail
build_dir=$(realpath "${1:?usage: abs_bench.sh BUILD_DIR}")
db_mb=${BENCH_DB_MB:-64}
busy=${BENCH_BUSY:-30}
part=${BENCH_PART_SIZE:-4MiB}
modules="$build_dir/npm/node_modules"
account=devstoreaccount1
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
work=$(mktemp -d /tmp/abs-bench.XXXXXX)
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
node "$modules/azurite/dist/src/blob/main.js" --blobHost 127.0.0.1 \
  --blobPort "$port" --location "$work/azurite" --disableTelemetry \
  --skipApiVersionCheck >"$work/azurite.log" 2>&1 &
pids+=($!)
wait_for "$work/azurite.log" "successfully listens"
endpoint="http://127.0.0.1:$port/$account"

# A signed request from Python (Shared Key), used for the container and the
# baseline upload: put.py METHOD PATH [FILE] [QUERY]
cat >"$work/put.py" <<'PY'
import base64, hashlib, hmac, http.client, sys, time
from email.utils import formatdate
port, account, key, method, path = sys.argv[1:6]
body = open(sys.argv[6], "rb").read() if len(sys.argv) > 6 and sys.argv[6] else b""
query = sys.argv[7] if len(sys.argv) > 7 else ""
headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": "2021-08-06"}
if body or method == "PUT" and query == "":
    headers["x-ms-blob-type"] = "BlockBlob"
length = str(len(body)) if body else ""
canon = "".join(f"{k}:{headers[k]}\n" for k in sorted(headers))
res = f"/{account}/{account}/{path}"
for kv in sorted(q for q in query.split("&") if q):
    k, v = kv.split("=")
    res += f"\n{k}:{v}"
sts = f"{method}\n\n\n{length}\n\n\n\n\n\n\n\n\n{canon}{res}"
sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
headers["Authorization"] = f"SharedKey {account}:{sig}"
url = f"/{account}/{path}" + (f"?{query}" if query else "")
t = time.time()
c = http.client.HTTPConnection("127.0.0.1", int(port))
c.request(method, url, body=body, headers=headers)
r = c.getresponse(); r.read()
print(r.status, f"{time.time() - t:.3f}")
PY
python3 "$work/put.py" "$port" "$account" "$key" PUT bench "" "restype=container" >/dev/null

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

# Baseline: the raw file in one Put Blob.
read -r code secs < <(python3 "$work/put.py" "$port" "$account" "$key" PUT \
  bench/raw.db "$work/app.db")
[[ $code == 201 ]] || { echo "baseline upload failed: $code" >&2; exit 1; }
echo "baseline Put Blob of the raw file: ${secs}s, $(python3 -c "print(f'{$db_bytes/1048576/$secs:.1f}')") MB/s"

export LITESTREAM_AZURE_ACCOUNT_KEY=$key
url="abs://$account@bench/app?endpoint=$endpoint&partSize=$part"
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
rep=$!
pids+=($rep)
wait_for "$work/rep.log" "replicating\|snapshot written\|sync" || true
sleep 3
metric() {  # name regex -> sum of matching samples
  curl -s "http://127.0.0.1:$mport/metrics" | grep -E "^$1" |
    awk '{s += $NF} END {printf "%d\n", s}'
}
req0=$(metric 'litekeep_storage_requests_total')
put0=$(metric 'litekeep_storage_requests_total\{.*kind="put"')
sync0=$(metric 'litekeep_syncs_total')
for _ in $(seq "$busy"); do
  python3 -c "import sqlite3,os,sys; c=sqlite3.connect(sys.argv[1]); c.execute('INSERT INTO t(v) VALUES(?)',(os.urandom(200),)); c.commit()" "$work/app.db"
  sleep 1
done
sleep 2
req1=$(metric 'litekeep_storage_requests_total')
put1=$(metric 'litekeep_storage_requests_total\{.*kind="put"')
sync1=$(metric 'litekeep_syncs_total')
python3 - "$((req1 - req0))" "$((put1 - put0))" "$((sync1 - sync0))" "$busy" <<'PY'
import sys
req, put, syncs, busy = map(int, sys.argv[1:])
print(f"busy {busy}s, one commit/s: {busy} commits, {syncs} syncs, {req} "
      f"requests ({put} PUT): {req / busy:.2f} requests per commit")
PY
