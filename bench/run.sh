#!/usr/bin/env bash
# Benchmark driver (`make bench`): runs every bench/*_bench.sh script with
# BUILD_DIR, then every google-benchmark binary in BUILD_DIR/bench/, each
# printing its own figures. Missed speed targets never fail it; a benchmark
# that cannot run (or finds a wrong result) makes it exit 1 after the rest ran.
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build_dir=$(realpath -- "$1") || exit 2
bench_dir=$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")

failed=()
run_one() {
  local name=$1
  shift
  echo
  echo "=== ${name} ==="
  if ! "$@"; then
    failed+=("${name}")
    echo "=== ${name}: FAILED ===" >&2
  fi
}

shopt -s nullglob
for script in "${bench_dir}"/*_bench.sh; do
  run_one "$(basename -- "${script}")" bash "${script}" "${build_dir}"
done
for bin in "${build_dir}"/bench/*_bench; do
  [[ -f ${bin} && -x ${bin} ]] || continue
  run_one "$(basename -- "${bin}")" "${bin}"
done

echo
if ((${#failed[@]})); then
  echo "benchmarks that could not run: ${failed[*]}" >&2
  exit 1
fi
echo "all benchmarks ran"
