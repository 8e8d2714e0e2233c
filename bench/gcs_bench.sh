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
# shellcheck source=bench/upload_bench_lib.sh
source "$(dirname "$0")/upload_bench_lib.sh"
bench_setup gcs

port=$(free_port)
python3 "$src_dir/tests/support/gcs_server.py" --port "$port" \
  --data "$work/gcs" --bucket bench >"$work/gcs.log" 2>&1 &
pids+=($!)
wait_for "$work/gcs.log" "listening on"
export STORAGE_EMULATOR_HOST=127.0.0.1:$port

bench_make_db
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
bench_snapshot_upload "$url"

bench_requests_per_commit "$url"
