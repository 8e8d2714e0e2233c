#!/usr/bin/env bash
# Write overhead as the application feels it (rate ratio, commit latency
# p50/p99/longest stall), litekeep and Litestream 0.3.13 in alternating
# rounds. See write_overhead_bench.py and docs/benchmarks.md.
# Env: BENCH_ROUNDS (3), BENCH_BURST (20000), BENCH_SUSTAINED (200000),
# LITESTREAM (default BUILD_DIR/npm/.../litestream), BENCH_KEEP=1,
# LITEKEEP_BEFORE (another litekeep binary, run as "before"),
# BENCH_LK_EXTRA (db-level YAML lines added to litekeep's config),
# BENCH_DISK_STRESS=1 (a background writer keeps the disk busy).
set -euo pipefail
build_dir=${1:?usage: write_overhead_bench.sh BUILD_DIR}
here=$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg), SQLite $(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)')"
python3 "$here/write_overhead_bench.py" "$build_dir"
