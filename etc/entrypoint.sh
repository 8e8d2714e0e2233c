#!/bin/sh
# Container entrypoint for serverless deployments (one container, no
# sidecar): restore the database from its replica when it is missing, then
# run the application as a child of `litekeep replicate -exec`, which ships
# every commit while the app runs and makes a final sync when it stops.
# SIGTERM to this process reaches the app; litekeep exits with its code.
#
# The code track (optional): with LITEKEEP_CODE_URL set, the application's
# code and static files are copied from that bucket prefix into
# LITEKEEP_CODE_DIR before the app starts, and `replicate` keeps the
# directory in step while the app runs (docs/sync.md). This replaces the
# `rclone copy` + `rclone sync ... --watch` lines of the usual recipe.
#
#   entrypoint.sh APP [ARGS...]
#
# Environment:
#   LITEKEEP_DB      the database path (required; must be in the config)
#   LITEKEEP_CONFIG  config file (default /etc/litekeep.yml)
#   LITEKEEP_BIN     litekeep binary (default: litekeep on PATH)
#   LITEKEEP_CODE_URL  bucket URL of the code, e.g. s3://bucket/student-code
#                      (optional; same URL forms and credentials as replicas)
#   LITEKEEP_CODE_DIR  where the code goes (required with LITEKEEP_CODE_URL)
set -eu

if [ "$#" -eq 0 ]; then
  echo "usage: entrypoint.sh APP [ARGS...]" >&2
  exit 2
fi
: "${LITEKEEP_DB:?set LITEKEEP_DB to the database path (as in the config)}"
: "${LITEKEEP_CONFIG:=/etc/litekeep.yml}"
: "${LITEKEEP_BIN:=litekeep}"
export LITEKEEP_CONFIG

mkdir -p "$(dirname "$LITEKEEP_DB")"

# Restore only when the database is missing and a backup exists.
"$LITEKEEP_BIN" restore -config "$LITEKEEP_CONFIG" \
  -if-db-not-exists -if-replica-exists "$LITEKEEP_DB"

# No backup yet: start from an empty database (SQLite accepts an empty
# file; the application creates its schema). replicate needs the file.
if [ ! -e "$LITEKEEP_DB" ]; then
  echo "entrypoint: no backup found; starting with a new database $LITEKEEP_DB" >&2
  : > "$LITEKEEP_DB"
fi

# The code track: the first copy must be complete before the app starts.
if [ -n "${LITEKEEP_CODE_URL:-}" ]; then
  : "${LITEKEEP_CODE_DIR:?set LITEKEEP_CODE_DIR to the code directory}"
  "$LITEKEEP_BIN" sync -config "$LITEKEEP_CONFIG" "$LITEKEEP_CODE_URL" \
    "$LITEKEEP_CODE_DIR"
fi

# Quote every argument for `sh -c`; `exec` makes the app itself the child
# so that signals reach it directly.
cmd="exec"
for arg in "$@"; do
  quoted=$(printf '%s' "$arg" | sed "s/'/'\\\\''/g")
  cmd="$cmd '$quoted'"
done
if [ -n "${LITEKEEP_CODE_URL:-}" ]; then
  exec "$LITEKEEP_BIN" replicate -config "$LITEKEEP_CONFIG" \
    -sync-src "$LITEKEEP_CODE_URL" -sync-dest "$LITEKEEP_CODE_DIR" -exec "$cmd"
fi
exec "$LITEKEEP_BIN" replicate -config "$LITEKEEP_CONFIG" -exec "$cmd"
