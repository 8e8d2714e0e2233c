#!/usr/bin/env bash
# Storage and request accounting, litekeep vs Litestream 0.3.13 in the same
# run (docs/benchmarks.md, "Storage and requests"). One s3rver behind a
# counting proxy (bench/s3_count_proxy.py); each tool replicates its own copy
# of the same database to its own bucket, with shortened level and snapshot
# intervals so every level runs. Phases: start + BENCH_SETTLE seconds, idle
# for BENCH_IDLE seconds, then one small commit per second for BENCH_BUSY
# seconds. Prints requests per hour by kind for each phase, replica bytes
# (the objects in the bucket) and bytes uploaded per MB of WAL written.
# Env: BENCH_DB_MB (150), BENCH_SETTLE (60), BENCH_IDLE (180), BENCH_BUSY (180).
set -euo pipefail
build_dir=$(realpath "${1:?usage: storage_requests_bench.sh BUILD_DIR}")
here=$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")
db_mb=${BENCH_DB_MB:-150}
settle=${BENCH_SETTLE:-60}
idle=${BENCH_IDLE:-180}
busy=${BENCH_BUSY:-180}
modules="$build_dir/npm/node_modules"
litestream="$modules/@flydotio/litestream-linux-x64/litestream"
work=$(mktemp -d /tmp/storage-bench.XXXXXX)
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
  for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

echo "machine: $(nproc) cores; database ${db_mb} MB; settle ${settle}s, idle ${idle}s, busy ${busy}s"
s3port=$(free_port)
proxyport=$(free_port)
node --openssl-legacy-provider "$modules/s3rver/bin/s3rver.js" -d "$work/s3" \
  -a 127.0.0.1 -p "$s3port" --configure-bucket lk --configure-bucket ls \
  >"$work/s3rver.log" 2>&1 &
pids+=($!)
wait_for "$work/s3rver.log" "listening"
python3 "$here/s3_count_proxy.py" "$proxyport" "$s3port" >"$work/proxy.log" 2>&1 &
pids+=($!)
wait_for "$work/proxy.log" "proxy listening"
endpoint="http://127.0.0.1:$proxyport"

# The database: rows of 600 random and 400 zero bytes (compresses to about
# 2/3, like the issue's database), then one copy per tool.
python3 - "$work/base.db" "$db_mb" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA journal_mode=WAL")
c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
for _ in range(int(sys.argv[2])):
    c.executemany("INSERT INTO t(v) VALUES(?)",
                  [(os.urandom(600) + bytes(400),) for _ in range(1000)])
    c.commit()
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
c.close()
PY
cp "$work/base.db" "$work/lk.db"
cp "$work/base.db" "$work/ls.db"
cp "$work/base.db" "$work/cal.db"

cat >"$work/litekeep.yml" <<YML
levels:
  - interval: 10s
  - interval: 30s
  - interval: 60s
snapshot:
  interval: 120s
  retention: 120s
l0-retention: 20s
dbs:
  - path: $work/lk.db
    replica:
      type: s3
      bucket: lk
      path: db
      endpoint: $endpoint
      region: us-east-1
      force-path-style: true
      access-key-id: S3RVER
      secret-access-key: S3RVER
      sync-interval: 1s
      retention-check-interval: 60s
YML
cat >"$work/litestream.yml" <<YML
access-key-id: S3RVER
secret-access-key: S3RVER
dbs:
  - path: $work/ls.db
    replicas:
      - type: s3
        bucket: ls
        path: db
        endpoint: $endpoint
        region: us-east-1
        force-path-style: true
        sync-interval: 1s
        snapshot-interval: 120s
        retention: 120s
        retention-check-interval: 60s
YML

counts() { curl -s "$endpoint/__counts"; }
replica_bytes() {  # bucket
  find "$work/s3/$1" -name '*._S3rver_object' -printf '%s\n' 2>/dev/null |
    awk '{s+=$1} END {print s+0}'
}

"$build_dir/litekeep" replicate -config "$work/litekeep.yml" >"$work/litekeep.log" 2>&1 &
pids+=($!)
"$litestream" replicate -config "$work/litestream.yml" >"$work/litestream.log" 2>&1 &
pids+=($!)
sleep "$settle"
c0=$(counts); lk_settled=$(replica_bytes lk); ls_settled=$(replica_bytes ls)
sleep "$idle"
c1=$(counts); lk_idle=$(replica_bytes lk); ls_idle=$(replica_bytes ls)

# WAL bytes one small commit writes (calibrated on a copy nobody replicates).
wal_per_commit=$(python3 - "$work/cal.db" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
n = 100
for _ in range(n):
    c.execute("INSERT INTO t(v) VALUES(?)", (os.urandom(200),))
    c.commit()
print((os.path.getsize(sys.argv[1] + "-wal") - 32) // n)
PY
)
python3 - "$work/lk.db" "$work/ls.db" "$busy" <<'PY'
import os, sqlite3, sys, time
dbs = [sqlite3.connect(p, timeout=10) for p in sys.argv[1:3]]
end = time.time() + int(sys.argv[3])
while time.time() < end:
    for c in dbs:
        c.execute("INSERT INTO t(v) VALUES(?)", (os.urandom(200),))
        c.commit()
    time.sleep(1)
PY
sleep 5
c2=$(counts); lk_busy=$(replica_bytes lk); ls_busy=$(replica_bytes ls)

python3 - "$c0" "$c1" "$c2" "$idle" "$busy" "$wal_per_commit" \
  "$lk_settled" "$ls_settled" "$lk_idle" "$ls_idle" "$lk_busy" "$ls_busy" \
  "$(stat -c %s "$work/base.db")" <<'PY'
import json, sys
c0, c1, c2 = (json.loads(a) for a in sys.argv[1:4])
idle, busy, wal_per_commit = (int(a) for a in sys.argv[4:7])
lk_set, ls_set, lk_idle, ls_idle, lk_busy, ls_busy, db = (int(a) for a in sys.argv[7:14])
kinds = ["PUT", "LIST", "GET", "HEAD", "DELETE", "POST"]
def diff(a, b, bucket):
    out = {}
    for k in kinds:
        x = b.get(bucket, {}).get(k, {"n": 0, "up": 0})
        y = a.get(bucket, {}).get(k, {"n": 0, "up": 0})
        out[k] = (x["n"] - y["n"], x["up"] - y["up"])
    return out
def row(name, d, secs):
    per_h = {k: d[k][0] * 3600 / secs for k in kinds}
    total = sum(per_h.values())
    parts = ", ".join(f"{k} {per_h[k]:.0f}" for k in kinds if per_h[k])
    return f"| {name} | {total:,.0f} | {parts or '-'} |"
mb = 1 << 20
commits = busy  # one per second
wal_mb = commits * wal_per_commit / mb
print(f"database {db / mb:.1f} MB; WAL per commit {wal_per_commit} B; busy phase {commits} commits = {wal_mb:.2f} MB of WAL")
print()
print("| Phase, tool | requests/hour | by kind |")
print("|---|---|---|")
for phase, a, b, secs in (("idle", c0, c1, idle), ("busy", c1, c2, busy)):
    for tool, bucket in (("litekeep", "lk"), ("Litestream 0.3.13", "ls")):
        print(row(f"{phase}, {tool}", diff(a, b, bucket), secs))
print()
print("| Tool | replica MB after settle | after idle | after busy | uploaded MB during busy | uploaded MB per MB of WAL | uploaded MB in the whole run |")
print("|---|---|---|---|---|---|---|")
for tool, bucket, s, i, bz in (("litekeep", "lk", lk_set, lk_idle, lk_busy),
                               ("Litestream 0.3.13", "ls", ls_set, ls_idle, ls_busy)):
    up_busy = sum(v[1] for v in diff(c1, c2, bucket).values()) / mb
    up_all = sum(v[1] for v in diff({}, c2, bucket).values()) / mb
    print(f"| {tool} | {s / mb:.1f} | {i / mb:.1f} | {bz / mb:.1f} | {up_busy:.2f} | {up_busy / wal_mb:.2f} | {up_all:.1f} |")
PY
echo
echo "litekeep warnings/errors:"; grep -iE "warn|error" "$work/litekeep.log" | head -5 || true
