#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz: clang-14, ASan + UBSan) and runs each for a bounded time
# on a scratch copy of its committed seed corpus (tests/fuzz/corpus/<target>). Any crash, leak,
# timeout or out-of-memory fails the script and leaves the input in build/fuzz/findings/<target>/.
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET=20] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
shift || true
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
bin=build/fuzz/tests/fuzz
targets=("$@")
if ((${#targets[@]} == 0)); then
  for t in tests/fuzz/fuzz_*.cpp; do
    t=$(basename "$t" .cpp)
    [ -x "$bin/$t" ] && targets+=("$t")
  done
fi
# LibTorch's own one-time allocations (static registries, thread pools) are not leaks of ours.
supp=$(mktemp)
printf 'leak:libtorch_cpu.so\nleak:libc10.so\nleak:libgomp.so\nleak:libopenblas\n' >"$supp"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=0
for t in "${targets[@]}"; do
  work=build/fuzz/corpus/$t
  findings=build/fuzz/findings/$t
  rm -rf "$work" "$findings"
  mkdir -p "$work" "$findings"
  echo "== $t: ${secs} s"
  if ! "$bin/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 -print_final_stats=1 \
       -artifact_prefix="$findings/" "$work" "tests/fuzz/corpus/$t" >"$findings/log.txt" 2>&1; then
    echo "FAILED: $t (input and log in $findings/)"
    tail -n 40 "$findings/log.txt"
    failed=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$findings/log.txt" | tr '\n' ' '
    echo
  fi
done
rm -f "$supp"
exit $failed
