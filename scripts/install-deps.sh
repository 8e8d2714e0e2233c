#!/usr/bin/env bash
# Installs what litekeep needs to build (and, with --test, to run its tests)
# on Debian 12. Idempotent: checks first, installs only what is missing.
#   scripts/install-deps.sh          build dependencies (apt-get) and the
#                                    SQLite amalgamation (third_party/sqlite)
#   scripts/install-deps.sh --test   also test-only tools (apt-get + npm into
#                                    build/npm: s3rver, Azurite, Litestream,
#                                    Google's @google-cloud/storage client,
#                                    the NATS JavaScript client `nats`)
set -euo pipefail

want_test=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown argument $arg" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
pkgs=(build-essential cmake ninja-build pkg-config ccache libsqlite3-dev sqlite3
  libcurl4-openssl-dev libssl-dev liblz4-dev libzstd-dev libyaml-cpp-dev
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libssh2-1-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev python3
  nodejs npm)
if [[ $want_test == 1 ]]; then
  pkgs+=(openssh-server openssh-client rclone clang-14 libclang-rt-14-dev age nats-server)
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

# The SQLite the litekeep binary compiles in: the official amalgamation of
# SQLite 3.53.2, which has the WAL-reset fix of 3.51.3 that Debian's 3.40.1
# lacks (docs/architecture.md "SQLite"). It ships in the npm package
# better-sqlite3 (deps/sqlite3/, public domain); nothing of that package is
# built or installed. Refuses files that are not that exact release.
sqlite_dir="$root/third_party/sqlite"
sqlite_pkg="better-sqlite3@12.11.1"
sqlite_id="2026-06-03 19:12:13 d6e03d8c777cfa2d35e3b60d8ec3e0187f3e9f99d8e2ee9cac695fd6fcdf1a24"
sqlite_c_sha256="60d2f39a3726cd6b9021da6f4e868608d66fbb6528a9f513dc8ffcc640493422"
sqlite_ok() {  # $1: directory holding sqlite3.c and sqlite3.h
  [[ -f $1/sqlite3.c && -f $1/sqlite3.h ]] &&
    grep -qF "#define SQLITE_SOURCE_ID      \"$sqlite_id\"" "$1/sqlite3.h" &&
    grep -qF "#define SQLITE_SOURCE_ID      \"$sqlite_id\"" "$1/sqlite3.c" &&
    [[ $(sha256sum "$1/sqlite3.c" | cut -d' ' -f1) == "$sqlite_c_sha256" ]]
}
if ! sqlite_ok "$sqlite_dir"; then
  echo "install-deps: fetching SQLite 3.53.2 (npm pack $sqlite_pkg) into $sqlite_dir"
  sqlite_tmp="$(mktemp -d)"
  trap 'rm -rf "$sqlite_tmp"' EXIT
  (cd "$sqlite_tmp" && npm pack --silent "$sqlite_pkg" 2>&1 | grep -v 'Unknown user config' >/dev/null || true)
  tgz=("$sqlite_tmp"/better-sqlite3-*.tgz)
  if [[ ! -f ${tgz[0]} ]]; then
    echo "install-deps: npm pack $sqlite_pkg failed (is the npm registry reachable?)" >&2
    exit 1
  fi
  tar -xzf "${tgz[0]}" -C "$sqlite_tmp" package/deps/sqlite3/sqlite3.c package/deps/sqlite3/sqlite3.h
  if ! sqlite_ok "$sqlite_tmp/package/deps/sqlite3"; then
    echo "install-deps: $sqlite_pkg does not carry SQLite 3.53.2 (SQLITE_SOURCE_ID \"$sqlite_id\", sqlite3.c sha256 $sqlite_c_sha256); refusing it" >&2
    exit 1
  fi
  mkdir -p "$sqlite_dir"
  mv "$sqlite_tmp/package/deps/sqlite3/sqlite3.c" "$sqlite_tmp/package/deps/sqlite3/sqlite3.h" "$sqlite_dir/"
fi

if [[ $want_test == 1 ]]; then
  npm_dir="$root/build/npm"
  mkdir -p "$npm_dir"
  need_npm=0
  for m in s3rver azurite @aws-sdk/client-s3 @smithy/signature-v4 @flydotio/litestream-linux-x64 @google-cloud/storage nats; do
    [[ -d "$npm_dir/node_modules/$m" ]] || need_npm=1
  done
  if [[ $need_npm == 1 ]]; then
    echo "install-deps: installing test servers into $npm_dir (npm)"
    [[ -f "$npm_dir/package.json" ]] || echo '{"name":"litekeep-test-tools","private":true}' >"$npm_dir/package.json"
    (cd "$npm_dir" && npm install --no-audit --no-fund --loglevel=error \
      s3rver azurite @aws-sdk/client-s3 @smithy/signature-v4 @flydotio/litestream-linux-x64 \
      @google-cloud/storage nats@2 2>&1 \
      | grep -v 'Unknown user config' || true)
  fi
fi
