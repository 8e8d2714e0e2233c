#!/usr/bin/env bash
# SFTP upload and download throughput (docs/benchmarks.md, "SFTP"): one
# OpenSSH sshd on 127.0.0.1 (internal-sftp, ed25519 keys); a database of
# BENCH_DB_MB MB of random rows; in the same run, OpenSSH's own sftp client
# putting and getting the database file (the baseline: the same bytes over
# the same server, no LTX work), then litekeep writing its snapshot
# (`replicate -once`: read, LTX encode, upload) and restoring it (download,
# apply, check), and the same two against a local directory (the work that is
# not transport). Prints seconds and MB/s for each, and the ratio to sftp.
# Env: BENCH_DB_MB (100), BENCH_RUNS (3, the best run counts).
set -euo pipefail
build_dir=$(realpath "${1:?usage: sftp_bench.sh BUILD_DIR}")
db_mb=${BENCH_DB_MB:-100}
runs=${BENCH_RUNS:-3}
litekeep="$build_dir/litekeep"
if [[ ! -x /usr/sbin/sshd ]]; then
  echo "sftp_bench: /usr/sbin/sshd missing (scripts/install-deps.sh --test)" >&2
  exit 1
fi
work=$(mktemp -d /tmp/sftp-bench.XXXXXX)
sshd_pid=""
cleanup() {
  [[ -n $sshd_pid ]] && kill "$sshd_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
user=$(id -un)
mkdir -p -m 755 /run/sshd 2>/dev/null || true
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
cat >"$work/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CFG
/usr/sbin/sshd -D -e -f "$work/sshd_config" >"$work/sshd.log" 2>&1 &
sshd_pid=$!
for _ in $(seq 100); do
  grep -q "Server listening" "$work/sshd.log" && break
  sleep 0.1
done
echo "[127.0.0.1]:$port $(cat "$work/host_key.pub")" >"$work/known_hosts"

python3 - "$work/app.db" "$db_mb" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA journal_mode=WAL")
c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
for _ in range(int(sys.argv[2])):
    c.executemany("INSERT INTO t(v) VALUES(?)", [(os.urandom(1000),) for _ in range(1000)])
    c.commit()
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
PY
size=$(stat -c %s "$work/app.db")
mb=$(python3 -c "print(f'{$size/1e6:.1f}')")
echo "machine: $(nproc) cores; database $mb MB (random rows); best of $runs runs"

ssh_opts=(-q -i "$work/client_key" -P "$port" -o "UserKnownHostsFile=$work/known_hosts"
  -o StrictHostKeyChecking=yes)
best() { sort -n | head -1; }
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2-$1:.3f}')"; }

sftp_put=() sftp_get=() lk_put=() lk_get=() file_put=() file_get=()
for run in $(seq "$runs"); do
  rm -rf "$work/remote" "$work/got.db" "$work/out.db" "$work/.app.db-litekeep" \
    "$work/filerep" "$work/fout.db"
  mkdir -p "$work/remote"
  printf 'put %s %s\n' "$work/app.db" "$work/remote/copy.db" >"$work/put.batch"
  printf 'get %s %s\n' "$work/remote/copy.db" "$work/got.db" >"$work/get.batch"
  t0=$(now); sftp "${ssh_opts[@]}" -b "$work/put.batch" "$user@127.0.0.1" >/dev/null; t1=$(now)
  sftp_put+=("$(elapsed "$t0" "$t1")")
  t0=$(now); sftp "${ssh_opts[@]}" -b "$work/get.batch" "$user@127.0.0.1" >/dev/null; t1=$(now)
  sftp_get+=("$(elapsed "$t0" "$t1")")
  cmp -s "$work/app.db" "$work/got.db"

  cat >"$work/litekeep.yml" <<CFG
dbs:
  - path: $work/app.db
    replica:
      url: sftp://$user@127.0.0.1:$port$work/remote/lk
      key-path: $work/client_key
      known-hosts: $work/known_hosts
CFG
  t0=$(now); "$litekeep" replicate -once -config "$work/litekeep.yml" >/dev/null 2>&1; t1=$(now)
  lk_put+=("$(elapsed "$t0" "$t1")")
  t0=$(now); "$litekeep" restore -config "$work/litekeep.yml" -o "$work/out.db" "$work/app.db" >/dev/null 2>&1; t1=$(now)
  lk_get+=("$(elapsed "$t0" "$t1")")
  cmp -s "$work/app.db" "$work/out.db" || { echo "restore differs" >&2; exit 1; }

  # The same work against a local directory: what is not transport.
  rm -rf "$work/.app.db-litekeep"
  t0=$(now); "$litekeep" replicate -once "$work/app.db" "file://$work/filerep" >/dev/null 2>&1; t1=$(now)
  file_put+=("$(elapsed "$t0" "$t1")")
  t0=$(now); "$litekeep" restore -o "$work/fout.db" "file://$work/filerep" >/dev/null 2>&1; t1=$(now)
  file_get+=("$(elapsed "$t0" "$t1")")
  cmp -s "$work/app.db" "$work/fout.db" || { echo "file restore differs" >&2; exit 1; }
done
ltx=$(find "$work/remote/lk/ltx" -name '*.ltx' -printf '%s\n' | awk '{s+=$1} END {print s}')
report() {  # name, best seconds, baseline seconds
  python3 -c "
s=$2; b=$3
print(f'{\"$1\":<44} {s:7.3f} s  {$size/1e6/s:7.1f} MB/s  {s/b:5.2f} x sftp')"
}
echo "snapshot LTX on the server: $(python3 -c "print(f'{$ltx/1e6:.1f}')") MB"
p=$(printf '%s\n' "${sftp_put[@]}" | best)
g=$(printf '%s\n' "${sftp_get[@]}" | best)
report "OpenSSH sftp put (baseline)" "$p" "$p"
report "litekeep replicate -once (snapshot upload)" "$(printf '%s\n' "${lk_put[@]}" | best)" "$p"
report "litekeep replicate -once to file:// (no net)" "$(printf '%s\n' "${file_put[@]}" | best)" "$p"
report "OpenSSH sftp get (baseline)" "$g" "$g"
report "litekeep restore" "$(printf '%s\n' "${lk_get[@]}" | best)" "$g"
report "litekeep restore from file:// (no net)" "$(printf '%s\n' "${file_get[@]}" | best)" "$g"
