#!/usr/bin/env bash
# NATS JetStream object store: upload throughput and requests per sync
# against Debian's nats-server on 127.0.0.1 (docs/benchmarks.md, "NATS").
# Throughput: the first `replicate -once` of a BENCH_DB_MB database (one
# snapshot: chunks of 128 KiB, 16 acknowledgements in flight, then the meta
# message) against a baseline in the same run: the raw database file
# published by Python (plain sockets) to a chunk subject of the same
# bucket in 128 KiB messages, 16 acknowledgements in flight. Requests per
# sync: `replicate` with sync-interval 1s while one small commit per second
# is made for BENCH_BUSY seconds, counted by litekeep's own metrics.
# Env: BENCH_DB_MB (64), BENCH_BUSY (30).
set -euo pipefail
build_dir=$(realpath "${1:?usage: nats_bench.sh BUILD_DIR}")
db_mb=${BENCH_DB_MB:-64}
busy=${BENCH_BUSY:-30}
work=$(mktemp -d /tmp/nats-bench.XXXXXX)
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
nats-server -js -a 127.0.0.1 -p "$port" -sd "$work/store" >"$work/nats.log" 2>&1 &
pids+=($!)
wait_for "$work/nats.log" "Server is ready"

# A tiny NATS client (plain sockets): the bucket, and the baseline upload.
cat >"$work/nats.py" <<'PY'
import json, socket, sys, time
class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")
        self.f.readline()  # INFO
        self.s.sendall(b'CONNECT {"verbose":false,"headers":true}\r\nSUB _R.* 1\r\nPING\r\n')
        while self.f.readline().strip() != b"PONG": pass
    def pub(self, subj, reply, data):
        self.s.sendall(b"PUB %s %s %d\r\n" % (subj.encode(), reply.encode(), len(data)) + data + b"\r\n")
    def msg(self):
        while True:
            line = self.f.readline().split()
            if line[0] == b"PING": self.s.sendall(b"PONG\r\n"); continue
            if line[0] != b"MSG": continue
            n = int(line[-1]); data = self.f.read(n + 2)[:-2]
            return json.loads(data)
c = Conn(int(sys.argv[1]))
if sys.argv[2] == "create":
    b = sys.argv[3]
    cfg = {"name": "OBJ_" + b, "subjects": ["$O.%s.C.>" % b, "$O.%s.M.>" % b],
           "storage": "file", "num_replicas": 1, "discard": "new",
           "allow_rollup_hdrs": True, "allow_direct": True, "max_bytes": -1}
    c.pub("$JS.API.STREAM.CREATE.OBJ_" + b, "_R.0", json.dumps(cfg).encode())
    r = c.msg(); assert "error" not in r, r
else:
    data = open(sys.argv[3], "rb").read()
    t = time.time(); inflight = 0; n = 0
    for off in range(0, len(data), 131072):
        c.pub("$O.bench.C.rawbaseline", "_R.%d" % n, data[off:off + 131072]); n += 1; inflight += 1
        while inflight >= 16:
            assert "error" not in c.msg(); inflight -= 1
    while inflight: assert "error" not in c.msg(); inflight -= 1
    print(f"{time.time() - t:.3f}")
PY
python3 "$work/nats.py" "$port" create bench

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
echo "machine: $(nproc) cores; database $((db_bytes / 1048576)) MB; nats-server $(nats-server --version)"

secs=$(python3 "$work/nats.py" "$port" raw "$work/app.db")
echo "baseline: raw file published in 128 KiB chunks: ${secs}s, $(python3 -c "print(f'{$db_bytes/1048576/$secs:.1f}')") MB/s"

url="nats://127.0.0.1:$port/bench"
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
sleep 4
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
curl -s "http://127.0.0.1:$mport/metrics" | grep -E '^litekeep_storage_requests_total' >"$work/req.txt" || true
python3 - "$((req1 - req0))" "$((put1 - put0))" "$busy" <<'PY'
import sys
req, put, busy = map(int, sys.argv[1:])
print(f"busy {busy}s, one commit/s: {busy} commits, {req} "
      f"requests ({put} publishes): {req / busy:.2f} requests per commit")
PY
cat "$work/req.txt"
