#!/usr/bin/env bash
# `make demo`: a sample app writes to a database while `litekeep replicate`
# ships it to a local directory; the database is then lost, `litekeep
# restore` brings it back, and the demo prints what it verified.
set -euo pipefail

bin="${1:-build/litekeep}"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/litekeep-demo.XXXXXX")"
db="$work/app.db"
replica="$work/replica"
rep_pid=
trap '[[ -n "$rep_pid" ]] && kill "$rep_pid" 2>/dev/null; true' EXIT

say() { printf '\n== %s\n' "$*"; }

say "1. Start replicating $db to file://$replica"
python3 -c "import sqlite3; sqlite3.connect('$db').execute('PRAGMA journal_mode=WAL').fetchall()"
"$bin" replicate "$db" "file://$replica" >"$work/replicate.log" 2>&1 &
rep_pid=$!
for _ in $(seq 1 100); do grep -q replicating "$work/replicate.log" && break; sleep 0.05; done

say "2. The sample app writes 3000 transactions over ~4 seconds"
python3 "$here/demo_app.py" "$db" 3000 4
read -r rows digest < <(python3 "$here/demo_app.py" --fingerprint "$db")
echo "   source: $rows rows, content sha256 ${digest:0:16}…"

say "3. Stop litekeep (SIGTERM: final sync, exit 0)"
kill -TERM "$rep_pid"
wait "$rep_pid"
rep_pid=
"$bin" ltx "file://$replica" | tail -n 3
echo "   ($(($("$bin" ltx "file://$replica" | wc -l) - 1)) LTX files in the replica)"

say "4. Disaster: the database is lost"
rm -f "$db" "$db-wal" "$db-shm"
ls "$work"

say "5. litekeep restore"
start=$(date +%s%N)
"$bin" restore -o "$db" "file://$replica" 2>&1 | sed 's/^/   /'
end=$(date +%s%N)

say "6. Verify"
read -r rrows rdigest < <(python3 "$here/demo_app.py" --fingerprint "$db")
check=$(python3 -c "import sqlite3; print(sqlite3.connect('$db').execute('PRAGMA integrity_check').fetchone()[0])")
ok=1
if [[ "$rrows" == "$rows" ]]; then echo "   rows:            $rrows of $rows back"; else echo "   rows: MISMATCH $rrows != $rows"; ok=0; fi
if [[ "$rdigest" == "$digest" ]]; then echo "   content sha256:  identical (${rdigest:0:16}…)"; else echo "   content: MISMATCH"; ok=0; fi
if [[ "$check" == "ok" ]]; then echo "   integrity_check: ok"; else echo "   integrity_check: $check"; ok=0; fi
echo "   restore took:    $(( (end - start) / 1000000 )) ms"
if [[ $ok == 1 ]]; then
  echo; echo "demo passed: every row is back. Files are in $work"
else
  echo; echo "demo FAILED; files are in $work" >&2
  exit 1
fi
