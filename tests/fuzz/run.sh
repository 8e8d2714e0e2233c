#!/usr/bin/env bash
# Builds and runs litekeep's libFuzzer targets (docs/reliability.md,
# "Fuzzing"). Called by ctest; usable by hand.
#   run.sh build <dir>          configure + build the targets with clang-14
#                               and ASan/UBSan/libFuzzer into <dir>
#   run.sh run <dir> <target>   replay tests/fuzz/regressions/<target>/, then
#                               fuzz for LITEKEEP_FUZZ_SECONDS (default 15)
#                               seconds from the seed corpus
# A crash fails the run and leaves the input in <dir>/artifacts/<target>/;
# copy it into tests/fuzz/regressions/<target>/ when fixing the bug.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
mode="${1:-}"
dir="${2:-}"
[[ -n $mode && -n $dir ]] || { sed -n '2,10p' "$0"; exit 2; }

case "$mode" in
  build)
    cc=$(command -v clang-14 || command -v clang)
    cxx=$(command -v clang++-14 || command -v clang++)
    cmake -S "$here" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
    cmake --build "$dir" -j"${LITEKEEP_FUZZ_JOBS:-2}"
    ;;
  run)
    target="${3:?target name}"
    bin="$dir/fuzz_$target"
    [[ -x $bin ]] || { echo "fuzz: $bin not built (run.sh build $dir)" >&2; exit 1; }
    seconds="${LITEKEEP_FUZZ_SECONDS:-15}"
    opts=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=262144)
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

    # 1. Every recorded regression input must now run cleanly.
    regress="$here/regressions/$target"
    if compgen -G "$regress/*" >/dev/null; then
      echo "fuzz: replaying $(ls "$regress" | wc -l) regression input(s) for $target"
      if ! "$bin" "${opts[@]}" "$regress"/* >"$dir/replay-$target.log" 2>&1; then
        tail -n 60 "$dir/replay-$target.log"
        echo "fuzz: $target fails on a regression input (log: $dir/replay-$target.log)" >&2
        exit 1
      fi
    fi
    ((seconds > 0)) || exit 0

    # 2. Fuzz from the seeds in a private scratch corpus (the checked-in
    # seeds are never modified).
    work="$(mktemp -d "${TMPDIR:-/tmp}/litekeep-fuzz-$target.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/corpus" "$dir/artifacts/$target"
    if [[ -d $here/corpus/$target ]]; then
      cp "$here/corpus/$target"/* "$work/corpus/" 2>/dev/null || true
    fi
    if [[ -d $regress ]]; then cp "$regress"/* "$work/corpus/" 2>/dev/null || true; fi
    echo "fuzz: $target for ${seconds}s from $(ls "$work/corpus" | wc -l) seed(s)"
    set +e
    "$bin" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/$target/" "$work/corpus" >"$work/log" 2>&1
    rc=$?
    set -e
    if [[ $rc != 0 ]]; then
      tail -n 80 "$work/log"
      echo "fuzz: $target FAILED (exit $rc); input(s) in $dir/artifacts/$target/:" >&2
      ls -l "$dir/artifacts/$target/" >&2
      exit 1
    fi
    grep -E '^stat::(number_of_executed_units|new_units_added)|^Done' "$work/log" || true
    ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
