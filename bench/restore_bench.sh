#!/usr/bin/env bash
# Restore benchmark (issue 2): builds a ~200 MB WAL-mode SQLite database,
# replicates it with `litekeep replicate` to a local file replica (snapshot
# plus a few incremental LTX files), then times, in this same script and on
# the same machine, `cp` of the database (the baseline), `sqlite3 .backup`,
# `litekeep restore` with -integrity-check none and with the default quick
# check, and `litestream restore` when a litestream binary is found. Each is
# run BENCH_RUNS times with a warm page cache and, when the page cache can be
# dropped, with a cold one. Prints median/min wall time, peak RSS, the ratio
# to cp and PASS/MISS against the targets (restore within 2x of cp, RSS under
# 64 MB). Missed targets do not fail it; a restore that is not byte-identical
# to the source does (exit 1).
#
# Usage: bench/restore_bench.sh BUILD_DIR
# Environment:
#   BENCH_RUNS=5        timed runs per variant and cache mode
#   BENCH_DB_MB=200     approximate database size
#   BENCH_TXNS=30       write transactions after the snapshot (incremental LTX)
#   BENCH_WRITER=connection  connection: the write transactions share one
#                       connection; process: one sqlite3 process each
#   BENCH_COLD=auto     auto: cold-cache runs when drop_caches works; 0: never
#   BENCH_KEEP=0        1: keep the temporary directory and print its path
#   LITESTREAM=path     litestream binary (default: litestream on PATH)
#   BENCH_COMPARE=path  another litekeep binary (e.g. a build of an older
#                       commit) restored right after this one, same data
#   TMPDIR              where the temporary directory is made (default /tmp)
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build_dir=$(realpath -- "$1")
lk=${build_dir}/litekeep
runs=${BENCH_RUNS:-5}
db_mb=${BENCH_DB_MB:-200}
txns=${BENCH_TXNS:-30}
cold_mode=${BENCH_COLD:-auto}
writer=${BENCH_WRITER:-connection}
keep=${BENCH_KEEP:-0}
litestream=${LITESTREAM:-$(command -v litestream || true)}
compare=${BENCH_COMPARE:-}
readonly kTargetRatio=2
readonly kTargetRssMb=64

die() {
  echo "restore_bench: $*" >&2
  exit 1
}
[[ -x ${lk} ]] || die "no litekeep binary at ${lk} (build first)"
[[ -z ${compare} || -x ${compare} ]] || die "BENCH_COMPARE=${compare} is not an executable"
command -v sqlite3 >/dev/null || die "sqlite3 CLI not found (apt-get install sqlite3)"
if [[ ! -x /usr/bin/time ]]; then
  echo "installing GNU time for peak-RSS measurement..."
  apt-get install -y -qq time >/dev/null 2>&1 || die "/usr/bin/time missing (apt-get install time)"
fi
[[ ${runs} =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
[[ ${db_mb} =~ ^[1-9][0-9]*$ ]] || die "BENCH_DB_MB must be a positive integer"
[[ ${txns} =~ ^[0-9]+$ ]] || die "BENCH_TXNS must be a non-negative integer"
[[ ${writer} == connection || ${writer} == process ]] || die "BENCH_WRITER must be connection or process"

work=$(mktemp -d "${TMPDIR:-/tmp}/litekeep-restore-bench.XXXXXX")
src=${work}/app.db
replica=${work}/replica
url=file://${replica}
out=${work}/restored.db
replicate_pid=
cleanup() {
  if [[ -n ${replicate_pid} ]] && kill -0 "${replicate_pid}" 2>/dev/null; then
    kill -TERM "${replicate_pid}" 2>/dev/null || true
    wait "${replicate_pid}" 2>/dev/null || true
  fi
  if [[ ${keep} == 1 ]]; then
    echo "kept ${work}"
  else
    rm -rf -- "${work}"
  fi
}
trap cleanup EXIT

now_ns() { date +%s%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# ---------------------------------------------------------------- machine --
print_machine() {
  local cpu mem dev rot
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  dev=$(df --output=source "${work}" | tail -1)
  rot=$(lsblk -ndo ROTA "${dev}" 2>/dev/null | tr -d ' ' || true)
  case ${rot} in 0 | 1) rot="kernel reports rotational=${rot}" ;; *) rot="rotational: unknown" ;; esac
  echo "machine: $(nproc) CPUs (${cpu:-unknown}), ${mem} RAM, kernel $(uname -r)"
  echo "disk:    ${work} on ${dev} ($(df --output=fstype "${work}" | tail -1 | tr -d ' '), ${rot})"
  echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start"
  echo "tools:   $(sqlite3 --version | cut -d' ' -f1) sqlite3 CLI, $("${lk}" version 2>/dev/null | head -1)"
}

# --------------------------------------------------------------- database --
# ~2.5 MB per scale unit: users (text, unique email index), posts (text
# bodies, two secondary indexes) and attachments (random and text blobs).
create_database() {
  local scale=$((db_mb * 17 / 40))
  ((scale >= 1)) || scale=1
  sqlite3 "${src}" >/dev/null <<EOF
PRAGMA page_size = 4096;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE users(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
  country TEXT, created_at INTEGER NOT NULL);
CREATE INDEX users_created ON users(created_at);
CREATE TABLE posts(
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
  title TEXT NOT NULL, body TEXT NOT NULL, score REAL,
  created_at INTEGER NOT NULL);
CREATE INDEX posts_user ON posts(user_id, created_at);
CREATE INDEX posts_title ON posts(title);
CREATE TABLE attachments(
  id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts(id),
  mime TEXT, data BLOB NOT NULL);
CREATE INDEX attachments_post ON attachments(post_id);
BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${scale} * 1000)
INSERT INTO users
SELECT i, 'user ' || hex(randomblob(6)),
       'u' || i || '.' || lower(hex(randomblob(4))) || '@example.com',
       substr('USDEFRGBJPBRINCN', 1 + 2 * (abs(random()) % 8), 2),
       1600000000 + abs(random()) % 100000000
FROM c;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${scale} * 4000)
INSERT INTO posts
SELECT i, 1 + abs(random()) % (${scale} * 1000),
       'Post ' || i || ' about ' || lower(hex(randomblob(5))),
       'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor '
         || hex(randomblob(20 + abs(random()) % 60))
         || ' incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam.',
       (abs(random()) % 10000) / 100.0, 1600000000 + abs(random()) % 100000000
FROM c;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${scale} * 200)
INSERT INTO attachments
SELECT i, 1 + abs(random()) % (${scale} * 4000),
       CASE i % 3 WHEN 0 THEN 'image/png' WHEN 1 THEN 'application/pdf' ELSE 'text/plain' END,
       CASE i % 3
         WHEN 2 THEN CAST(replace(hex(zeroblob(600 + abs(random()) % 800)), '00', 'ab ') AS BLOB)
         ELSE randomblob(1000 + abs(random()) % 3000) END
FROM c;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
EOF
}

# One small write transaction (updates and inserts), as an application would.
transaction_sql() {
  local n=$1
  cat <<EOF
BEGIN;
UPDATE posts SET score = score + 1
  WHERE id IN (SELECT 1 + abs(random()) % (SELECT max(id) FROM posts) FROM posts LIMIT 200);
INSERT INTO posts(user_id, title, body, score, created_at)
  SELECT user_id, 'Reply ${n} ' || id, body, 0, created_at + 1 FROM posts
  WHERE id IN (SELECT 1 + abs(random()) % (SELECT max(id) FROM posts) FROM posts LIMIT 50);
INSERT INTO attachments(post_id, mime, data) VALUES (${n}, 'image/png', randomblob(8000));
COMMIT;
EOF
}

# BENCH_TXNS write transactions 0.1 s apart: from one long-lived connection
# (BENCH_WRITER=connection, an application's shape) or one sqlite3 process
# each (BENCH_WRITER=process, like cron jobs or CLI scripts).
write_transactions() {
  local i
  if [[ ${writer} == process ]]; then
    for ((i = 1; i <= txns; i++)); do
      { echo "PRAGMA busy_timeout = 5000;"; transaction_sql "${i}"; } | sqlite3 "${src}" >/dev/null
      sleep 0.1
    done
  else
    {
      echo "PRAGMA busy_timeout = 5000;"
      for ((i = 1; i <= txns; i++)); do
        transaction_sql "${i}"
        echo ".shell sleep 0.1"
      done
    } | sqlite3 "${src}" >/dev/null
  fi
}

ltx_file_count() {
  "${lk}" ltx "${url}" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { n++ } END { print n + 0 }'
}

replicate_database() {
  local log=${work}/replicate.log t0 waited=0
  "${lk}" replicate "${src}" "${url}" >"${log}" 2>&1 &
  replicate_pid=$!
  t0=$(now_ns)
  until (($(ltx_file_count) > 0)); do
    kill -0 "${replicate_pid}" 2>/dev/null || { cat "${log}" >&2; die "litekeep replicate exited early"; }
    ((waited++ < 3000)) || { cat "${log}" >&2; die "no snapshot in the replica after 300 s"; }
    sleep 0.1
  done
  echo "snapshot written in $(elapsed "${t0}" "$(now_ns)") s"
  write_transactions
  kill -TERM "${replicate_pid}"
  local rc=0
  wait "${replicate_pid}" || rc=$?
  replicate_pid=
  ((rc == 0)) || { cat "${log}" >&2; die "litekeep replicate exited with ${rc} after SIGTERM"; }
  # Fold the WAL into the database file so that it is the state to compare.
  sqlite3 "${src}" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  rm -rf -- "${work}/.app.db-litekeep"
}

# ------------------------------------------------------------ measurement --
cold_ok=0
cold_note=
probe_cold_cache() {
  if [[ ${cold_mode} == 0 ]]; then
    cold_note="cold cache: skipped (BENCH_COLD=0)"
    return
  fi
  cat "${src}" >/dev/null
  sync
  if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
    cold_note="cold cache: skipped (cannot write /proc/sys/vm/drop_caches; needs root outside a read-only /proc)"
    return
  fi
  if command -v fincore >/dev/null; then
    local pages
    pages=$(fincore -n -o PAGES "${src}" 2>/dev/null | tr -d ' ' || echo "?")
    if [[ ${pages} != 0 ]]; then
      cold_note="cold cache: skipped (drop_caches accepted but ${pages} pages of the source stayed cached)"
      return
    fi
    cold_note="cold cache: page cache dropped before each run (sync; echo 3 > /proc/sys/vm/drop_caches; verified with fincore)"
  else
    cold_note="cold cache: page cache dropped before each run (sync; echo 3 > /proc/sys/vm/drop_caches; not verified, no fincore)"
  fi
  cold_ok=1
}

prepare_run() {
  local cache=$1
  rm -f -- "${out}" "${out}.tmp" "${out}-wal" "${out}-shm"
  sync
  if [[ ${cache} == cold ]]; then
    echo 3 >/proc/sys/vm/drop_caches
  fi
}

# Rows of the result table: "variant|cache|median_us|min_us|cpu_us|rss_kb|verified"
# (cpu: median user + system time, which a loaded machine distorts less
# than wall time).
rows=()
declare -A median_of=() rss_of=()
mismatches=0

stats() {  # numbers on stdin -> "median min max"
  sort -n | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    print m, v[1], v[NR] }'
}

# measure VARIANT CACHE VERIFY(0|1) -- COMMAND...: times COMMAND `runs` times
# (after one untimed warm-up run when CACHE is warm).
measure() {
  local variant=$1 cache=$2 verify=$3
  shift 4
  local times=() rss=() cpu=() i t0 t1 ok=0
  local rss_file=${work}/rss cmd_log=${work}/cmd.log
  if [[ ${cache} == warm ]]; then
    prepare_run warm
    "$@" >"${cmd_log}" 2>&1 || { cat "${cmd_log}" >&2; die "${variant} failed: $*"; }
  fi
  for ((i = 0; i < runs; i++)); do
    prepare_run "${cache}"
    t0=$(now_ns)
    /usr/bin/time -f '%M %U %S' -o "${rss_file}" "$@" >"${cmd_log}" 2>&1 ||
      { cat "${cmd_log}" >&2; die "${variant} failed: $*"; }
    t1=$(now_ns)
    times+=("$(((t1 - t0) / 1000))")
    rss+=("$(tail -1 "${rss_file}" | awk '{ print $1 }')")
    cpu+=("$(tail -1 "${rss_file}" | awk '{ printf "%d", ($2 + $3) * 1e6 }')")
    if [[ ${verify} == 1 ]]; then
      if cmp -s "${src}" "${out}"; then
        ok=$((ok + 1))
      else
        mismatches=$((mismatches + 1))
        echo "MISMATCH: ${variant} (${cache}, run $((i + 1))): $(cmp "${src}" "${out}" 2>&1 | head -1)" >&2
      fi
    fi
  done
  local med min max_rss cpu_med
  read -r med min _ < <(printf '%s\n' "${times[@]}" | stats)
  read -r cpu_med _ _ < <(printf '%s\n' "${cpu[@]}" | stats)
  read -r _ _ max_rss < <(printf '%s\n' "${rss[@]}" | stats)
  median_of["${variant}|${cache}"]=${med}
  rss_of["${variant}|${cache}"]=${max_rss}
  local verified="-"
  [[ ${verify} == 1 ]] && verified="${ok}/${runs} identical"
  rows+=("${variant}|${cache}|${med}|${min}|${cpu_med}|${max_rss}|${verified}")
  printf '  %-40s %-4s median %8.3f s  min %8.3f s  CPU %6.2f s  peak RSS %7.1f MB\n' \
    "${variant}" "${cache}" "$(awk -v u="${med}" 'BEGIN { print u / 1e6 }')" \
    "$(awk -v u="${min}" 'BEGIN { print u / 1e6 }')" \
    "$(awk -v u="${cpu_med}" 'BEGIN { print u / 1e6 }')" \
    "$(awk -v k="${max_rss}" 'BEGIN { print k / 1024 }')"
}

run_variants() {
  local cache=$1
  measure "cp (baseline)" "${cache}" 0 -- cp "${src}" "${out}"
  # shellcheck disable=SC2016  # $1/$2 belong to the inner sh
  measure "cp + fsync" "${cache}" 0 -- sh -c 'cp "$1" "$2" && sync "$2"' sh "${src}" "${out}"
  measure "sqlite3 .backup" "${cache}" 0 -- sqlite3 "${src}" ".backup '${out}'"
  measure "litekeep restore -integrity-check none" "${cache}" 1 -- \
    "${lk}" restore -integrity-check none -o "${out}" "${url}"
  measure "litekeep restore (quick check)" "${cache}" 1 -- \
    "${lk}" restore -o "${out}" "${url}"
  if [[ -n ${compare} ]]; then
    measure "compare: restore -integrity-check none" "${cache}" 1 -- \
      "${compare}" restore -integrity-check none -o "${out}" "${url}"
    measure "compare: restore (quick check)" "${cache}" 1 -- \
      "${compare}" restore -o "${out}" "${url}"
  fi
  if [[ -n ${litestream} ]]; then
    measure "litestream restore" "${cache}" 1 -- \
      "${litestream}" restore -o "${out}" "${url}"
  fi
}

print_table() {
  local row variant cache med min cpu rss verified base ratio
  echo
  echo "| variant | cache | median s | min s | CPU s | peak RSS MB | median / cp | restored file |"
  echo "|---|---|---:|---:|---:|---:|---:|---|"
  for row in "${rows[@]}"; do
    IFS='|' read -r variant cache med min cpu rss verified <<<"${row}"
    base=${median_of["cp (baseline)|${cache}"]}
    ratio=$(awk -v a="${med}" -v b="${base}" 'BEGIN { printf "%.2fx", a / b }')
    printf '| %s | %s | %.3f | %.3f | %.2f | %.1f | %s | %s |\n' "${variant}" "${cache}" \
      "$(awk -v u="${med}" 'BEGIN { print u / 1e6 }')" \
      "$(awk -v u="${min}" 'BEGIN { print u / 1e6 }')" \
      "$(awk -v u="${cpu}" 'BEGIN { print u / 1e6 }')" \
      "$(awk -v k="${rss}" 'BEGIN { print k / 1024 }')" "${ratio}" "${verified}"
  done
}

print_targets() {
  local cache variant key base ratio rss verdict
  echo
  echo "targets: median wall time within ${kTargetRatio}x of cp; peak RSS under ${kTargetRssMb} MB"
  for cache in warm cold; do
    [[ -n ${median_of["cp (baseline)|${cache}"]:-} ]] || continue
    base=${median_of["cp (baseline)|${cache}"]}
    for variant in "litekeep restore -integrity-check none" "litekeep restore (quick check)"; do
      key="${variant}|${cache}"
      ratio=$(awk -v a="${median_of[${key}]}" -v b="${base}" 'BEGIN { printf "%.2f", a / b }')
      verdict=$(awk -v r="${ratio}" -v t="${kTargetRatio}" 'BEGIN { print (r <= t) ? "PASS" : "MISS" }')
      printf '  %-4s %-40s %-4s time %5sx cp (%sx cp + fsync)\n' "${verdict}" "${variant}" "${cache}" "${ratio}" \
        "$(awk -v a="${median_of[${key}]}" -v b="${median_of["cp + fsync|${cache}"]}" 'BEGIN { printf "%.2f", a / b }')"
      rss=${rss_of[${key}]}
      verdict=$(awk -v k="${rss}" -v t="${kTargetRssMb}" 'BEGIN { print (k / 1024 < t) ? "PASS" : "MISS" }')
      printf '  %-4s %-40s %-4s peak RSS %.1f MB\n' "${verdict}" "${variant}" "${cache}" \
        "$(awk -v k="${rss}" 'BEGIN { print k / 1024 }')"
    done
  done
}

# ------------------------------------------------------------------- main --
bench_t0=$(now_ns)
echo "litekeep restore benchmark: local file replica, ~${db_mb} MB database, ${runs} runs per variant"
print_machine

t0=$(now_ns)
create_database
db_bytes=$(stat -c %s "${src}")
echo "database: $(awk -v b="${db_bytes}" 'BEGIN { printf "%.1f MB", b / 1e6 }') ($((db_bytes / 4096)) pages of 4 KiB," \
  "3 tables, 5 indexes, text and blobs), built in $(elapsed "${t0}" "$(now_ns)") s"

replicate_database
snapshots=$(grep -c "snapshot written" "${work}/replicate.log" || true)
echo "replica:  $(ltx_file_count) LTX files from ${txns} write transactions (${writer} writer)," \
  "${snapshots} of them full snapshots," \
  "$(du -sb "${replica}" | awk '{ printf "%.1f MB", $1 / 1e6 }') on disk"
if ((snapshots > 1)); then
  echo "NOTE: litekeep replicate wrote ${snapshots} snapshots; restore applies each of them:"
  grep "snapshot written" "${work}/replicate.log" | sed 's/^[^ ]* [a-z]* /  /'
fi
"${lk}" restore -integrity-check none -o "${out}" "${url}" 2>&1 | sed 's/^/  /'
cmp -s "${src}" "${out}" || die "a first restore is not byte-identical to the source database"
echo "first restore is byte-identical to the source database (cmp)"
[[ -n ${compare} ]] && echo "compare: ${compare} (rows \"compare: ...\")"
if [[ -n ${litestream} ]]; then
  ls_version=$("${litestream}" version 2>/dev/null | head -1)
  if [[ ${ls_version} == v0.3.* ]]; then
    # 0.3 reads only its own generations/ layout, not this LTX replica.
    echo "litestream: ${litestream} (${ls_version}) reads only 0.3 replicas, not LTX; skipped (needs Litestream 0.5)"
    litestream=""
  else
    echo "litestream: ${litestream} (${ls_version})"
  fi
else
  echo "litestream: not found (set LITESTREAM=path to include it); skipped"
fi

probe_cold_cache
echo "${cold_note}"
echo
echo "warm cache (one untimed run first, source and replica in the page cache):"
run_variants warm
if ((cold_ok)); then
  echo "cold cache:"
  run_variants cold
fi

print_table
print_targets
echo
if ((mismatches)); then
  echo "restored files: ${mismatches} restore(s) NOT byte-identical to the source" >&2
else
  echo "restored files: every restore was byte-identical to the source (cmp)"
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at end; benchmark took $(elapsed "${bench_t0}" "$(now_ns)") s"
((mismatches == 0))
