#!/usr/bin/env bash
# VFS over S3 benchmark (issue 7): builds a ~100 MB database, replicates it to
# s3rver on 127.0.0.1 (free port, temporary directory) and measures, through
# litekeep.so loaded into Python's sqlite3 module: cold time to the first
# point-query result, cache miss and hit latency, requests per point query,
# requests per hour of an idle reader, and a full `litekeep restore` from the
# same replica (ratio to the cold first query). Prints a table. Figures never
# fail it; it exits 1 only when something cannot run or a result is wrong
# (rows differ from the source database, a restore is not byte-identical).
# The measuring is in bench/vfs_bench.py.
#
# Usage: bench/vfs_bench.sh BUILD_DIR
# Environment:
#   BENCH_VFS_DB_MB=100         approximate database size
#   BENCH_VFS_COLD_RUNS=5       cold opens (one fresh process each)
#   BENCH_VFS_QUERIES=200       point queries per miss/hit measurement
#   BENCH_VFS_IDLE_SECONDS=63   how long the idle reader stays open
#   BENCH_VFS_RESTORE_RUNS=3    full restores per variant
#   BENCH_VFS_TXNS=5            write transactions after the snapshot
#   BENCH_KEEP=0                1: keep the temporary directory
#   LITEKEEP_NPM_DIR            directory holding node_modules/s3rver
#                               (default BUILD_DIR/npm, then <source>/build/npm;
#                               installed with scripts/install-deps.sh --test)
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build_dir=$(realpath -- "$1")
here=$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")
source_dir=$(dirname -- "${here}")
die() {
  echo "vfs_bench: $*" >&2
  exit 1
}

[[ -x ${build_dir}/litekeep && -f ${build_dir}/litekeep.so ]] ||
  die "${build_dir}/litekeep or litekeep.so missing (ninja -C ${build_dir})"
[[ -x /usr/bin/python3 ]] || die "/usr/bin/python3 missing"
/usr/bin/python3 -c 'import sqlite3; sqlite3.connect(":memory:").enable_load_extension(True)' ||
  die "/usr/bin/python3's sqlite3 module cannot load extensions"
command -v node >/dev/null || die "node missing (scripts/install-deps.sh --test)"

find_modules() {
  local d
  for d in ${LITEKEEP_NPM_DIR:+"${LITEKEEP_NPM_DIR}"} "${build_dir}/npm" "${source_dir}/build/npm"; do
    if [[ -f ${d}/node_modules/s3rver/bin/s3rver.js ]]; then
      echo "${d}/node_modules"
      return 0
    fi
  done
  return 1
}
if ! modules=$(find_modules); then
  echo "vfs_bench: s3rver not found; running scripts/install-deps.sh --test"
  "${source_dir}/scripts/install-deps.sh" --test || true
  modules=$(find_modules) || die "s3rver not installed (scripts/install-deps.sh --test)"
fi

exec /usr/bin/python3 "${here}/vfs_bench.py" "${build_dir}" "${modules}"
