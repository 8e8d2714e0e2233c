#!/usr/bin/env bash
# Replication lag (p50/p99 at sync-interval 1s and wake-on-change) and write
# overhead of `litekeep replicate` on a local file replica. See lag_bench.py.
# Env: BENCH_LAG_SAMPLES (default 40), BENCH_SECONDS (overhead run, default 5).
set -euo pipefail
build_dir=${1:?usage: lag_bench.sh BUILD_DIR}
here=$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
python3 "$here/lag_bench.py" "$build_dir/litekeep" "${BENCH_LAG_SAMPLES:-40}"
