#!/usr/bin/env bash
# Many idle databases in one replicator (docs/benchmarks.md, "Scale"):
# litekeep (config entries and a watched directory) and Litestream 0.3.13
# (config entries; it has no directory entries) in the same run, at 1,000 and
# 10,000 databases. Prints start-up time, steady-state CPU % of one core,
# RSS, and the p50/p99 lag of 100 writes to random databases. See
# scale_bench.py. Env: SCALE_COUNTS (default "1000 10000"), SCALE_TOOLS
# (default "litekeep litestream"), plus scale_bench.py's BENCH_* settings.
set -euo pipefail
build_dir=$(realpath -- "${1:?usage: scale_bench.sh BUILD_DIR}")
here=$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")
litestream="$build_dir/npm/node_modules/@flydotio/litestream-linux-x64/litestream"
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), open-file limit $(ulimit -Hn)"
for n in ${SCALE_COUNTS:-1000 10000}; do
  for tool in ${SCALE_TOOLS:-litekeep litestream}; do
    if [[ $tool == litekeep ]]; then
      modes="entries dir"
      bin="$build_dir/litekeep"
    else
      modes="entries"
      bin="$litestream"
      if [[ ! -x $bin ]]; then echo "litestream: not installed ($bin)"; continue; fi
      # Litestream opens every database at start and keeps its files open.
      ulimit -n "$(ulimit -Hn)"
    fi
    for mode in $modes; do
      python3 "$here/scale_bench.py" "$tool" "$bin" "$n" "$mode" "$work/run" || \
        echo "{'tool': '$tool', 'dbs': $n, 'mode': '$mode', 'error': 'run failed'}"
    done
  done
done
