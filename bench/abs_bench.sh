#!/usr/bin/env bash
# Azure Blob upload throughput and requests per sync (docs/benchmarks.md,
# "Azure Blob via Azurite"). One Azurite on 127.0.0.1 (free port, temporary
# directory). Throughput: the first `replicate -once` of a BENCH_DB_MB
# database (one snapshot: Put Block x N + Put Block List) against a baseline
# in the same run, one plain Put Blob of the raw database file from Python's
# http.client (no compression, no blocks). Requests per sync: `replicate`
# with sync-interval 1s while one small commit per second is made for
# BENCH_BUSY seconds, counted by litekeep's own metrics.
# Env: BENCH_DB_MB (64), BENCH_BUSY (30), BENCH_PART_SIZE (4MiB).
set -euo pipefail
build_dir=$(realpath "${1:?usage: abs_bench.sh BUILD_DIR}")
db_mb=${BENCH_DB_MB:-64}
busy=${BENCH_BUSY:-30}
part=${BENCH_PART_SIZE:-4MiB}
modules="$build_dir/npm/node_modules"
account=devstoreaccount1
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
# shellcheck source=bench/upload_bench_lib.sh
source "$(dirname "$0")/upload_bench_lib.sh"
bench_setup abs

port=$(free_port)
node "$modules/azurite/dist/src/blob/main.js" --blobHost 127.0.0.1 \
  --blobPort "$port" --location "$work/azurite" --disableTelemetry \
  --skipApiVersionCheck >"$work/azurite.log" 2>&1 &
pids+=($!)
wait_for "$work/azurite.log" "successfully listens"
endpoint="http://127.0.0.1:$port/$account"

# A signed request from Python (Shared Key), used for the container and the
# baseline upload: put.py METHOD PATH [FILE] [QUERY]
cat >"$work/put.py" <<'PY'
import base64, hashlib, hmac, http.client, sys, time
from email.utils import formatdate
port, account, key, method, path = sys.argv[1:6]
body = open(sys.argv[6], "rb").read() if len(sys.argv) > 6 and sys.argv[6] else b""
query = sys.argv[7] if len(sys.argv) > 7 else ""
headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": "2021-08-06"}
if body or method == "PUT" and query == "":
    headers["x-ms-blob-type"] = "BlockBlob"
length = str(len(body)) if body else ""
canon = "".join(f"{k}:{headers[k]}\n" for k in sorted(headers))
res = f"/{account}/{account}/{path}"
for kv in sorted(q for q in query.split("&") if q):
    k, v = kv.split("=")
    res += f"\n{k}:{v}"
sts = f"{method}\n\n\n{length}\n\n\n\n\n\n\n\n\n{canon}{res}"
sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
headers["Authorization"] = f"SharedKey {account}:{sig}"
url = f"/{account}/{path}" + (f"?{query}" if query else "")
t = time.time()
c = http.client.HTTPConnection("127.0.0.1", int(port))
c.request(method, url, body=body, headers=headers)
r = c.getresponse(); r.read()
print(r.status, f"{time.time() - t:.3f}")
PY
python3 "$work/put.py" "$port" "$account" "$key" PUT bench "" "restype=container" >/dev/null

bench_make_db
echo "machine: $(nproc) cores; database $((db_bytes / 1048576)) MB; part-size $part"

# Baseline: the raw file in one Put Blob.
read -r code secs < <(python3 "$work/put.py" "$port" "$account" "$key" PUT \
  bench/raw.db "$work/app.db")
[[ $code == 201 ]] || { echo "baseline upload failed: $code" >&2; exit 1; }
echo "baseline Put Blob of the raw file: ${secs}s, $(python3 -c "print(f'{$db_bytes/1048576/$secs:.1f}')") MB/s"

export LITESTREAM_AZURE_ACCOUNT_KEY=$key
url="abs://$account@bench/app?endpoint=$endpoint&partSize=$part"
bench_snapshot_upload "$url"

bench_requests_per_commit "$url"
