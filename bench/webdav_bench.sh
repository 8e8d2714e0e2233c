#!/usr/bin/env bash
# WebDAV upload throughput and requests per sync against `rclone serve
# webdav` on 127.0.0.1 (docs/benchmarks.md, "WebDAV via rclone"). One
# server (free port, temporary directory, basic authentication).
# Throughput: the first `replicate -once` of a BENCH_DB_MB database (one L9
# snapshot: MKCOLs, a PUT to a temporary name, a MOVE) against two baselines
# in the same run: one plain PUT of the raw database file with curl, and the
# same `replicate -once` into a local directory (no network). Requests
# per sync: `replicate` with sync-interval 1s while one small commit per
# second is made for BENCH_BUSY seconds, counted by litekeep's own metrics.
# Env: BENCH_DB_MB (64), BENCH_BUSY (30).
set -euo pipefail
build_dir=$(realpath "${1:?usage: webdav_bench.sh BUILD_DIR}")
db_mb=${BENCH_DB_MB:-64}
busy=${BENCH_BUSY:-30}
# shellcheck source=bench/upload_bench_lib.sh
source "$(dirname "$0")/upload_bench_lib.sh"
command -v rclone >/dev/null || { echo "rclone is not installed" >&2; exit 1; }
bench_setup webdav

user=bench
pass=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
port=$(free_port)
mkdir -p "$work/dav"
rclone serve webdav "$work/dav" --addr "127.0.0.1:$port" --user "$user" \
  --pass "$pass" --config /dev/null >"$work/rclone.log" 2>&1 &
pids+=($!)
wait_for "$work/rclone.log" "WebDav Server started"

bench_make_db
echo "machine: $(nproc) cores; database $((db_bytes / 1048576)) MB; $(rclone version | head -1)"

# Baseline: the raw file in one PUT (the login read from a private file, so
# it is not on curl's command line).
printf 'user = "%s:%s"\n' "$user" "$pass" >"$work/curlrc"
chmod 600 "$work/curlrc"
read -r code secs < <(curl -s -K "$work/curlrc" -o /dev/null -w '%{http_code} %{time_total}\n' \
  -T "$work/app.db" "http://127.0.0.1:$port/raw.db")
[[ $code == 201 || $code == 204 ]] || { echo "baseline upload failed: $code" >&2; exit 1; }
echo "baseline PUT of the raw file: ${secs}s, $(python3 -c "print(f'{$db_bytes/1048576/$secs:.1f}')") MB/s"

# The same snapshot into a local directory (a copy of the database, so its
# local state is its own): the cost of building the snapshot without a
# network.
cp "$work/app.db" "$work/copy.db"
echo -n "to a local directory: "
bench_snapshot_upload "file://$work/filerep" "$work/copy.db"

url="webdav://$user:$pass@127.0.0.1:$port/app"
echo -n "to WebDAV: "
bench_snapshot_upload "$url"
bench_requests_per_commit "$url"
