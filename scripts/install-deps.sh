#!/usr/bin/env bash
# Installs what litekeep needs to build (and, with --test, to run its tests)
# on Debian 12. Idempotent: checks first, installs only what is missing.
#   scripts/install-deps.sh          build dependencies (apt-get)
#   scripts/install-deps.sh --test   also test-only tools (apt-get + npm into
#                                    build/npm; see ../shared/TESTING.md)
set -euo pipefail

want_test=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown argument $arg" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
pkgs=(build-essential cmake ninja-build pkg-config ccache libsqlite3-dev sqlite3
  libcurl4-openssl-dev libssl-dev liblz4-dev libzstd-dev libyaml-cpp-dev
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libssh2-1-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev python3)
if [[ $want_test == 1 ]]; then
  pkgs+=(openssh-server openssh-client nodejs npm rclone clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${pkgs[@]}"; do
  if [[ $p == nodejs || $p == npm ]] && command -v "${p/nodejs/node}" >/dev/null 2>&1; then
    continue
  fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ $want_test == 1 ]]; then
  npm_dir="$root/build/npm"
  mkdir -p "$npm_dir"
  need_npm=0
  for m in s3rver azurite @aws-sdk/client-s3 @smithy/signature-v4 @flydotio/litestream-linux-x64; do
    [[ -d "$npm_dir/node_modules/$m" ]] || need_npm=1
  done
  if [[ $need_npm == 1 ]]; then
    echo "install-deps: installing test servers into $npm_dir (npm)"
    [[ -f "$npm_dir/package.json" ]] || echo '{"name":"litekeep-test-tools","private":true}' >"$npm_dir/package.json"
    (cd "$npm_dir" && npm install --no-audit --no-fund --loglevel=error \
      s3rver azurite @aws-sdk/client-s3 @smithy/signature-v4 @flydotio/litestream-linux-x64 2>&1 \
      | grep -v 'Unknown user config' || true)
  fi
fi
