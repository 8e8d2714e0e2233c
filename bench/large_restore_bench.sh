#!/usr/bin/env bash
# Large-database restore benchmark (docs/benchmarks.md, "Large databases"):
# builds a generated 1 GB SQLite database (and a 10 GB one with BENCH_10G=1,
# skipped with a message when the disk is too small), replicates it with
# `litekeep replicate` to a local directory and to s3rver, and with
# Litestream 0.3.13 to its own directory replica (its restore finds no
# generations on s3rver, docs/benchmarks.md), then times
# and measures the peak RSS (/usr/bin/time) of, in the same run:
#   - cp + fsync of the database (the local floor);
#   - litekeep restore -integrity-check none from the directory;
#   - a plain parallel HTTP download of litekeep's objects from s3rver
#     (BENCH_PARALLELISM ranged GETs in flight, pwrite into one file, fsync):
#     the S3 floor;
#   - litekeep restore -integrity-check none from s3rver (-parallelism
#     BENCH_PARALLELISM, and -parallelism 1 for comparison);
#   - litestream 0.3.13 restore from its directory replica;
#   - the VFS (litekeep.so) on the s3rver replica: open plus first point
#     query in fresh processes and requests per later point query, counted
#     by bench/s3_count_proxy.py (bench/large_vfs_probe.py).
# Every litekeep and litestream restore is compared with cmp to the source.
# Memory of the other commands on the same database (one run each):
#   - litekeep replicate until the first snapshot is in the replica, to the
#     directory and to s3rver (the replicate runs above, peak RSS from
#     /usr/bin/time);
#   - litekeep verify -checksums of both replicas and verify -full of the
#     directory replica;
#   - a compaction/snapshot cycle (BENCH_CYCLE=1): litekeep replicate with
#     snapshot.interval BENCH_CYCLE_INTERVAL to a fresh directory and s3rver
#     replica; after the first snapshot one row is committed and the
#     compactor writes the next snapshot from the replica's L9 snapshot and
#     the new L0 file (download, decode, merge, encode, upload); peak RSS at
#     the first snapshot (VmHWM) and over the whole cycle.
# Prints median/min/max wall time, peak RSS and PASS/MISS against the
# targets (S3 <= 1.5x the plain download, local <= 1.2x cp + fsync, peak RSS
# <= 64 MiB for every litekeep command). Missed targets do not fail it; a
# wrong restore or a failed verify does (exit 1).
#
# Usage: bench/large_restore_bench.sh BUILD_DIR
# Environment:
#   BENCH_RUNS=3          timed runs per variant
#   BENCH_10G=0           1: also the 10 GB database (needs ~35 GB free;
#                         about 90 minutes with BENCH_RUNS=1 on 2 busy cores)
#   BENCH_SIZES_MB        override the sizes (e.g. "200" for a quick try)
#   BENCH_PARALLELISM=8   ranged GETs in flight (litekeep and the plain client)
#   BENCH_LITESTREAM=1    0: skip the Litestream 0.3.13 rows
#   BENCH_VFS_RUNS=3      fresh VFS processes (0: no VFS rows)
#   BENCH_VFS_QUERIES=20  point queries after the first, per process
#   BENCH_KEEP=0          1: keep the temporary directory
#   BENCH_RESTORE=1       0: no restore or VFS rows (replicate, verify and
#                         the cycle only)
#   BENCH_CYCLE=1         0: no compaction/snapshot cycle
#   BENCH_CYCLE_INTERVAL=30s  snapshot.interval of the cycle
#   BENCH_VERIFY_FULL=1   0: no verify -full row (it restores the whole
#                         database and runs integrity_check on it)
#   BENCH_LK_BEFORE       another litekeep binary (e.g. built from an older
#                         commit): its S3 restores run beside this one's in
#                         the same run, as "before" rows
#   TMPDIR                where the temporary directory is made
set -euo pipefail

build_dir=$(realpath -- "${1:?usage: large_restore_bench.sh BUILD_DIR}")
lk=${build_dir}/litekeep
modules=${build_dir}/npm/node_modules
litestream=${modules}/@flydotio/litestream-linux-x64/litestream
runs=${BENCH_RUNS:-3}
par=${BENCH_PARALLELISM:-8}
keep=${BENCH_KEEP:-0}
with_ls=${BENCH_LITESTREAM:-1}
sizes=${BENCH_SIZES_MB:-1024}
vfs_runs=${BENCH_VFS_RUNS:-3}
lk_before=${BENCH_LK_BEFORE:-}
do_restore=${BENCH_RESTORE:-1}
do_cycle=${BENCH_CYCLE:-1}
cycle_interval=${BENCH_CYCLE_INTERVAL:-30s}
verify_full=${BENCH_VERIFY_FULL:-1}
((do_restore)) || { with_ls=0; vfs_runs=0; }
[[ -z ${lk_before} || -x ${lk_before} ]] || { echo "large_restore_bench: no binary at ${lk_before}" >&2; exit 1; }
here=$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")
[[ ${BENCH_10G:-0} == 1 && -z ${BENCH_SIZES_MB:-} ]] && sizes="1024 10240"

die() {
  echo "large_restore_bench: $*" >&2
  exit 1
}
[[ -x ${lk} ]] || die "no litekeep binary at ${lk} (build first)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install time)"
[[ -f ${modules}/s3rver/bin/s3rver.js ]] || die "s3rver not installed (make test-deps)"
if ((vfs_runs > 0)) && [[ ! -f ${build_dir}/litekeep.so ]]; then
  echo "no ${build_dir}/litekeep.so: the VFS rows are skipped"
  vfs_runs=0
fi
if [[ ${with_ls} == 1 && ! -x ${litestream} ]]; then
  echo "no Litestream 0.3.13 at ${litestream}: its rows are skipped"
  with_ls=0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/litekeep-large-bench.XXXXXX")
pids=()
failed=0
replicator=
cleanup() {
  # A replicator interrupted mid-run may retry its final sync forever once
  # s3rver is gone: it (under /usr/bin/time) is killed first.
  if [[ -n ${replicator} ]]; then
    kill -KILL $(pgrep -P "${replicator}") 2>/dev/null
    kill -KILL "${replicator}" 2>/dev/null
  fi
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ ${keep} == 1 ]]; then echo "kept ${work}"; else rm -rf -- "${work}"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
wait_for() {  # file, text
  for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  cat "$1" >&2
  die "timed out waiting for '$2' in $1"
}
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

echo "machine: $(nproc) CPUs, $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM," \
  "load $(cut -d' ' -f1-3 /proc/loadavg) at start (shared VM: read ratios within one run)"
echo "tools:   $("${lk}" version 2>/dev/null | head -1); litestream $([[ ${with_ls} == 1 ]] && "${litestream}" version || echo skipped)"
echo "runs:    ${runs} per variant, warm page cache, parallelism ${par}"

s3port=$(free_port)
node --openssl-legacy-provider "${modules}/s3rver/bin/s3rver.js" -d "${work}/s3" \
  -a 127.0.0.1 -p "${s3port}" --configure-bucket lk \
  >"${work}/s3rver.log" 2>&1 &
pids+=($!)
wait_for "${work}/s3rver.log" "listening"
endpoint=http://127.0.0.1:${s3port}
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
lk_s3="s3://lk/db?endpoint=${endpoint}&forcePathStyle=true&region=us-east-1"

# ---------------------------------------------------------------- database --
# Rows of 600 random and 400 zero bytes (LZ4 makes about 2/3 of it), built
# without a journal, then switched to WAL as an application's database is.
make_db() {  # path, MB
  sqlite3 "$1" >/dev/null <<EOF
PRAGMA page_size = 4096;
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $(($2 * 1000)))
INSERT INTO t(v) SELECT randomblob(600) || zeroblob(400) FROM c;
CREATE INDEX t_v ON t(substr(v, 1, 8));
PRAGMA journal_mode = WAL;
EOF
}

# Runs the replicator (under /usr/bin/time: peak RSS in ${log}.rss, KiB)
# until its replica holds the snapshot, then, if given, runs the
# after-command and waits for its ready-command (the compaction/snapshot
# cycle), then stops it (SIGTERM: final sync). The replicator's VmHWM when
# the first snapshot is in goes to ${log}.hwm (KiB).
replicate_until() {  # log, ready-command, after-command, after-ready, command...
  local log=$1 ready=$2 after=$3 after_ready=$4
  shift 4
  /usr/bin/time -f %M -o "${log}.rss" "$@" >"${log}" 2>&1 &
  local pid=$! waited=0 child=
  replicator=${pid}
  until eval "${ready}" >/dev/null 2>&1; do
    kill -0 "${pid}" 2>/dev/null || { cat "${log}" >&2; die "$1 exited early"; }
    ((waited++ < 36000)) || die "no snapshot after 3600 s ($*)"
    sleep 0.1
  done
  child=$(pgrep -P "${pid}" | head -1)
  awk '/^VmHWM/ { print $2 }' "/proc/${child}/status" >"${log}.hwm"
  if [[ -n ${after} ]]; then
    eval "${after}"
    waited=0
    until eval "${after_ready}" >/dev/null 2>&1; do
      kill -0 "${pid}" 2>/dev/null || { cat "${log}" >&2; die "$1 exited early"; }
      ((waited++ < 36000)) || die "no second snapshot after 3600 s ($*)"
      sleep 0.1
    done
  fi
  sleep 1
  # The replicator is /usr/bin/time's child: it gets the signal, time waits.
  kill -TERM "${child}"
  wait "${pid}" || true
  replicator=
}

# ----------------------------------------------------------------- timing --
declare -A T RSS
measure() {  # variant, command... (output in ${out}; removed and synced first)
  local name=$1 i t0 t1 m
  shift
  for ((i = 1; i <= runs; i++)); do
    rm -f "${out}" "${out}-wal" "${out}-shm"
    rm -rf "${work}/dl"
    sync
    t0=$(now_ns)
    if ! /usr/bin/time -f %M -o "${work}/rss" "$@" >"${work}/cmd.log" 2>&1; then
      cat "${work}/cmd.log" >&2
      echo "FAILED: ${name}" >&2
      failed=1
      return
    fi
    t1=$(now_ns)
    m=$(tail -1 "${work}/rss")
    T[${name}]+="$(awk -v a="${t0}" -v b="${t1}" 'BEGIN { printf "%.3f", (b - a) / 1e9 }') "
    RSS[${name}]+="${m} "
    if [[ ${CHECK:-0} == 1 ]] && ! cmp -s "${out}" "${db}"; then
      echo "WRONG RESULT: ${name} run ${i} differs from the source" >&2
      failed=1
    fi
    # Litestream 0.3 adds its own tables to the database it replicates: its
    # restore is checked by content (rows, quick_check), not bytes.
    if [[ ${CHECK:-0} == rows ]] &&
      [[ $(sqlite3 "${out}" "PRAGMA quick_check; SELECT count(*), sum(length(v)) FROM t") != "ok"$'\n'"${rows}" ]]; then
      echo "WRONG RESULT: ${name} run ${i}: not the source's rows" >&2
      failed=1
    fi
  done
}
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
minof() { tr ' ' '\n' <<<"$1" | grep . | sort -g | head -1; }
maxof() { tr ' ' '\n' <<<"$1" | grep . | sort -g | tail -1; }

cp_fsync() { cp "$1" "$2" && sync "$2"; }
export -f cp_fsync

# The plain parallel client: every object under a bucket prefix (keys read
# from s3rver's directory), each split into ranges with $par GETs in flight,
# written with pwrite into one file per object, fsync'd.
plain_download() {  # bucket, prefix, dest-dir
  python3 - "${endpoint}" "${work}/s3" "$1" "$2" "$3" "${par}" <<'PY'
import concurrent.futures as cf, http.client, os, sys, urllib.parse
endpoint, root, bucket, prefix, dest, par = sys.argv[1:7]
par = int(par)
host = urllib.parse.urlparse(endpoint)
base = os.path.join(root, bucket)
objs = []
for d, _, files in os.walk(os.path.join(base, prefix)):
    for f in files:
        if f.endswith("._S3rver_object"):
            p = os.path.join(d, f)
            objs.append((os.path.relpath(p, base)[: -len("._S3rver_object")], os.path.getsize(p)))
os.makedirs(dest)
chunk = 8 << 20
jobs, fds = [], {}
for i, (key, size) in enumerate(sorted(objs)):
    fds[key] = os.open(os.path.join(dest, str(i)), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    for off in range(0, max(size, 1), chunk):
        jobs.append((key, off, min(size, off + chunk) - 1))
def get(job):
    key, a, b = job
    c = http.client.HTTPConnection(host.hostname, host.port)
    c.request("GET", "/%s/%s" % (bucket, urllib.parse.quote(key)), headers={"Range": "bytes=%d-%d" % (a, b)})
    r = c.getresponse()
    if r.status not in (200, 206):
        raise SystemExit("GET %s: %d" % (key, r.status))
    off = a
    while True:
        buf = r.read(1 << 20)
        if not buf:
            break
        os.pwrite(fds[key], buf, off)
        off += len(buf)
    c.close()
    return off - a
with cf.ThreadPoolExecutor(par) as ex:
    total = sum(ex.map(get, jobs))
for fd in fds.values():
    os.fsync(fd)
    os.close(fd)
print(total)
PY
}
export -f plain_download
export endpoint work par
report() {  # size label
  local v base ratio target limit
  printf '\n| variant | median s | min s | max s | peak RSS MiB (max) | ratio |\n|---|---:|---:|---:|---:|---:|\n'
  for v in "${order[@]}"; do
    [[ -n ${T[$v]:-} ]] || continue
    base=
    case $v in
      "litekeep restore, dir"*) base="cp + fsync" ;;
      "litekeep restore, s3"* | "before: litekeep restore, s3"*) base="plain parallel download" ;;
      "litestream 0.3.13 restore, dir") base="cp + fsync" ;;
    esac
    ratio=-
    if [[ -n ${base} && -n ${T[$base]:-} ]]; then
      ratio=$(awk -v a="$(median "${T[$v]}")" -v b="$(median "${T[$base]}")" 'BEGIN { printf "%.2fx %s", a / b, "" }')
      ratio="${ratio}(${base})"
    fi
    printf '| %s | %s | %s | %s | %.1f | %s |\n' "$v" "$(median "${T[$v]}")" "$(minof "${T[$v]}")" \
      "$(maxof "${T[$v]}")" "$(awk -v k="$(maxof "${RSS[$v]}")" 'BEGIN { print k / 1024 }')" "${ratio}"
  done
  echo
  echo "targets ($1):"
  for pair in "litekeep restore, dir|cp + fsync|1.2" "litekeep restore, s3 -parallelism ${par}|plain parallel download|1.5"; do
    IFS='|' read -r v base limit <<<"${pair}"
    [[ -n ${T[$v]:-} && -n ${T[$base]:-} ]] || continue
    ratio=$(awk -v a="$(median "${T[$v]}")" -v b="$(median "${T[$base]}")" 'BEGIN { printf "%.2f", a / b }')
    target=$(awk -v r="${ratio}" -v l="${limit}" 'BEGIN { print (r <= l) ? "PASS" : "MISS" }')
    echo "  ${target} ${v}: ${ratio}x ${base} (target <= ${limit}x)"
  done
  for v in "${order[@]}"; do
    [[ ${v} == litekeep* || ${v} == before:* ]] || continue
    [[ -n ${T[$v]:-} ]] || continue
    local kb
    kb=$(maxof "${RSS[$v]}")
    echo "  $( ((kb <= 65536)) && echo PASS || echo MISS) ${v}: peak RSS $(awk -v k="${kb}" 'BEGIN { printf "%.1f", k / 1024 }') MiB (target <= 64)"
  done
}

# Memory rows of the commands run once (replicate, verify, the cycle).
mem_rows=()
kib_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
mem_row() {  # label, seconds, peak KiB
  mem_rows+=("$1|$2|$3")
}
mem_measure() {  # label, command... (run once; a failure fails the script)
  local label=$1 t0 t1
  shift
  t0=$(now_ns)
  if ! /usr/bin/time -f %M -o "${work}/rss" "$@" >"${work}/cmd.log" 2>&1; then
    cat "${work}/cmd.log" >&2
    echo "FAILED: ${label}" >&2
    failed=1
    return
  fi
  t1=$(now_ns)
  mem_row "${label}" "$(secs "${t0}" "${t1}")" "$(tail -1 "${work}/rss")"
}
mem_report() {  # size label
  local row label sec kb
  ((${#mem_rows[@]} > 0)) || return 0
  printf '\n| command (%s, one run) | s | peak RSS MiB | target <= 64 MiB |\n|---|---:|---:|---|\n' "$1"
  for row in "${mem_rows[@]}"; do
    IFS='|' read -r label sec kb <<<"${row}"
    printf '| %s | %s | %s | %s |\n' "${label}" "${sec}" "$(kib_mib "${kb}")" \
      "$( ((kb <= 65536)) && echo PASS || echo MISS)"
  done
  mem_rows=()
}
# The compaction/snapshot cycle on a fresh copy and replica: the first
# snapshot, one committed row, the compactor's next snapshot.
cycle_write() {
  sqlite3 -cmd '.timeout 10000' "${db}" "INSERT INTO t(v) VALUES (randomblob(100))"
}
cycle() {  # label, replica URL, log
  local label=$1 url=$2 log=$3 t0
  rm -rf "${db}-wal" "${db}-shm" "$(dirname "${db}")/.$(basename "${db}")-litekeep"
  cat >"${d}/cy.yml" <<YML
snapshot:
  interval: ${cycle_interval}
dbs:
  - path: ${db}
    replica:
      url: ${url}
YML
  t0=$(now_ns)
  replicate_until "${log}" "[[ \$(\"${lk}\" ltx '${url}' 2>/dev/null | grep -c '^ *[0-9]') -gt 0 ]]" \
    cycle_write "grep -q ' written from ' '${log}'" "${lk}" replicate -config "${d}/cy.yml"
  mem_row "litekeep replicate ${label}: first snapshot (VmHWM then)" - "$(cat "${log}.hwm")"
  mem_row "litekeep replicate ${label}: first snapshot, one commit, compaction snapshot" \
    "$(secs "${t0}" "$(now_ns)")" "$(cat "${log}.rss")"
}

main() {
for mb in ${sizes}; do
  echo
  echo "=== ${mb} MB database ==="
  need_kb=$((mb * 1024 * 7 / 2))
  avail_kb=$(df --output=avail -k "${work}" | tail -1)
  if ((avail_kb < need_kb)); then
    echo "skipped: ${work} has $((avail_kb / 1024)) MB free, the ${mb} MB case needs about $((need_kb / 1024)) MB" \
      "(database, two replicas, s3rver copies, restored file)"
    continue
  fi
  d=${work}/${mb}
  mkdir -p "${d}"
  db=${d}/app.db
  out=${d}/restored.db
  t0=$(now_ns)
  make_db "${db}" "${mb}"
  rows=$(sqlite3 "${db}" "SELECT count(*), sum(length(v)) FROM t")
  echo "database: $(($(stat -c %s "${db}") >> 20)) MiB ($(($(stat -c %s "${db}") / 4096)) pages of 4 KiB), built in $(secs "${t0}" "$(now_ns)") s"

  cp "${db}" "${d}/lk.db"
  t0=$(now_ns)
  replicate_until "${d}/lk-file.log" "[[ \$(\"${lk}\" ltx file://${d}/lk-replica 2>/dev/null | grep -c '^ *[0-9]') -gt 0 ]]" \
    "" "" "${lk}" replicate "${d}/lk.db" "file://${d}/lk-replica"
  mem_row "litekeep replicate to a directory (first snapshot)" "$(secs "${t0}" "$(now_ns)")" "$(cat "${d}/lk-file.log.rss")"
  echo "litekeep replicate to a directory: $(secs "${t0}" "$(now_ns)") s to the snapshot," \
    "$(du -sm "${d}/lk-replica" | cut -f1) MB, peak RSS $(kib_mib "$(cat "${d}/lk-file.log.rss")") MiB"
  rm -rf "${d}/lk.db"* "${d}/.lk.db-litekeep"
  cp "${db}" "${d}/lk.db"
  t0=$(now_ns)
  replicate_until "${d}/lk-s3.log" "[[ \$(\"${lk}\" ltx '${lk_s3/db?/db${mb}?}' 2>/dev/null | grep -c '^ *[0-9]') -gt 0 ]]" \
    "" "" "${lk}" replicate "${d}/lk.db" "${lk_s3/db?/db${mb}?}"
  mem_row "litekeep replicate to s3rver (first snapshot)" "$(secs "${t0}" "$(now_ns)")" "$(cat "${d}/lk-s3.log.rss")"
  echo "litekeep replicate to s3rver: $(secs "${t0}" "$(now_ns)") s to the snapshot," \
    "$(du -sm "${work}/s3/lk/db${mb}" | cut -f1) MB, peak RSS $(kib_mib "$(cat "${d}/lk-s3.log.rss")") MiB"
  rm -rf "${d}/lk.db"* "${d}/.lk.db-litekeep"

  order=("cp + fsync" "litekeep restore, dir" "plain parallel download" \
    "litekeep restore, s3 -parallelism ${par}" "litekeep restore, s3 -parallelism 1" \
    "before: litekeep restore, s3 -parallelism ${par}" "before: litekeep restore, s3 -parallelism 1" \
    "litestream 0.3.13 restore, dir")
  if [[ ${with_ls} == 1 ]]; then
    cp "${db}" "${d}/ls.db"
    cat >"${d}/ls.yml" <<YML
access-key-id: S3RVER
secret-access-key: S3RVER
dbs:
  - path: ${d}/ls.db
    replicas:
      - name: dir
        type: file
        path: ${d}/ls-replica
YML
    t0=$(now_ns)
    replicate_until "${d}/ls.log" \
      "ls ${d}/ls-replica/generations/*/snapshots/*.lz4" \
      "" "" "${litestream}" replicate -config "${d}/ls.yml"
    echo "litestream 0.3.13 replicate to a directory: $(secs "${t0}" "$(now_ns)") s to the snapshot"
    rm -rf "${d}/ls.db"* "${d}/.ls.db-litestream"
  fi

  mem_measure "litekeep verify -checksums, dir" "${lk}" verify -checksums "file://${d}/lk-replica"
  mem_measure "litekeep verify -checksums, s3" "${lk}" verify -checksums "${lk_s3/db?/db${mb}?}"
  if ((verify_full)); then
    mem_measure "litekeep verify -full, dir" "${lk}" verify -full "file://${d}/lk-replica"
  fi
  if ((do_restore)); then
    restores
  fi
  if ((do_cycle)); then
    # Room for the cycle: the replicas above are done with, and the cycle
    # replicates the source itself (it commits a row to it).
    rm -rf "${d}/lk-replica" "${work}/s3/lk/db${mb}" "${d}/ls-replica"
    cycle "to a directory" "file://${d}/cy-replica" "${d}/cy-file.log"
    rm -rf "${d}/cy-replica"
    cycle "to s3rver" "${lk_s3/db?/cy${mb}?}" "${d}/cy-s3.log"
    rm -rf "${work}/s3/lk/cy${mb}"
  fi
  mem_report "${mb} MB"
  T=() RSS=()
  rm -rf "${d}" "${work}/dl"
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
exit "${failed}"
}

# The restore rows of one size (and the VFS rows).
restores() {
  measure "cp + fsync" bash -c 'cp_fsync "$@"' _ "${db}" "${out}"
  CHECK=1 measure "litekeep restore, dir" "${lk}" restore -integrity-check none -o "${out}" "file://${d}/lk-replica"
  measure "plain parallel download" bash -c 'plain_download "$@"' _ lk "db${mb}" "${work}/dl"
  CHECK=1 measure "litekeep restore, s3 -parallelism ${par}" "${lk}" restore -integrity-check none \
    -parallelism "${par}" -o "${out}" "${lk_s3/db?/db${mb}?}"
  CHECK=1 measure "litekeep restore, s3 -parallelism 1" "${lk}" restore -integrity-check none \
    -parallelism 1 -o "${out}" "${lk_s3/db?/db${mb}?}"
  if [[ -n ${lk_before} ]]; then
    CHECK=1 measure "before: litekeep restore, s3 -parallelism ${par}" "${lk_before}" restore \
      -integrity-check none -parallelism "${par}" -o "${out}" "${lk_s3/db?/db${mb}?}"
    CHECK=1 measure "before: litekeep restore, s3 -parallelism 1" "${lk_before}" restore \
      -integrity-check none -parallelism 1 -o "${out}" "${lk_s3/db?/db${mb}?}"
  fi
  if [[ ${with_ls} == 1 ]]; then
    CHECK=rows measure "litestream 0.3.13 restore, dir" "${litestream}" restore -config "${d}/ls.yml" \
      -replica dir -o "${out}" "${d}/ls.db"
  fi
  report "${mb} MB"
  if ((vfs_runs > 0)); then
    pport=$(free_port)
    python3 "${here}/s3_count_proxy.py" "${pport}" "${s3port}" >"${work}/proxy.log" 2>&1 &
    pids+=($!)
    wait_for "${work}/proxy.log" "proxy listening"
    echo
    echo "VFS on the s3rver replica (${mb} MB), requests counted by bench/s3_count_proxy.py:"
    /usr/bin/python3 "${here}/large_vfs_probe.py" "${build_dir}/litekeep.so" \
      "s3://lk/db${mb}?endpoint=http://127.0.0.1:${pport}&forcePathStyle=true&region=us-east-1" \
      "${pport}" "${db}" "${vfs_runs}" "${BENCH_VFS_QUERIES:-20}" || failed=1
    kill -TERM "${pids[-1]}" 2>/dev/null || true
  fi
}

main
