#!/usr/bin/env bash
# Builds once, then runs every ProcessBench workload pinned to one CPU (taskset -c 0: the JVM, its
# threads and the cat children share CPU 0) and unpinned, printing every RESULT line and table.
# W3 runs each implementation in a fresh JVM (ProcessBench re-executes itself with the same flags).
# Usage: examples/bench/run-process-bench.sh [extra key=value args passed to every workload]
# Env: SKIP_BUILD=1 to reuse examples/target; MODES="pinned unpinned" to choose.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -o -q -pl core,transport,examples -am package -DskipTests
fi

CP="examples/target/classes:examples/target/lib/*"
MAIN=io.dualpipe.examples.bench.ProcessBench
# Latency/throughput workloads: the JVM's defaults. W3: a bounded heap and SerialGC, so that peak
# RSS reflects what the implementation needs rather than how much garbage a 6 GiB default heap lets
# pile up (same flags for both implementations).
JVM_FLAGS=(${JVM_FLAGS:-})
W3_FLAGS=(${W3_FLAGS:--Xms16m -Xmx96m -XX:+UseSerialGC})
EXTRA=("$@")

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) CPUs; $(java -version 2>&1 | head -1)"
echo "# git $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty')"

ALL=()
run() { # mode prefix... -- args
  local mode=$1; shift
  local -a pre=()
  [[ $mode == pinned ]] && pre=(taskset -c 0)
  local flags=("${JVM_FLAGS[@]}")
  [[ $1 == W3 ]] && flags=("${W3_FLAGS[@]}")
  echo "\$ ${pre[*]} java ${flags[*]} $MAIN $* ${EXTRA[*]}"
  local out rc=0
  out=$("${pre[@]}" java "${flags[@]}" -cp "$CP" "$MAIN" "$@" "${EXTRA[@]}" 2>&1) || rc=$?
  echo "$out"
  while IFS= read -r l; do ALL+=("[$mode] $l"); done < <(grep '^RESULT ' <<<"$out" || true)
  if (( rc != 0 )); then echo "!! $* failed with exit code $rc"; FAILED=1; fi
  echo
}

# W4's C floor (examples/bench/c/spawn_rate.c), when a C compiler is at hand.
SPAWN_RATE_C=""
if command -v cc >/dev/null 2>&1; then
  SPAWN_RATE_C=$(mktemp -d)/spawn_rate
  cc -O2 -o "$SPAWN_RATE_C" examples/bench/c/spawn_rate.c || SPAWN_RATE_C=""
fi

FAILED=0
for mode in ${MODES:-pinned unpinned}; do
  echo "=============== $mode ==============="
  run "$mode" W1 warmup=20000 iters=100000 linelen=64
  run "$mode" W1R warmup=20000 iters=100000 linelen=64
  run "$mode" W1P warmup=20000 iters=100000 linelen=64 inflight=32
  run "$mode" W1F warmup=20000 iters=100000 linelen=64
  run "$mode" W2 bytes=1073741824 chunk=65536 pipe=both
  run "$mode" W3 n=1000 rounds=100 impl=both
  run "$mode" W4 count=2000
  run "$mode" W4F count=2000
  if [[ -n "$SPAWN_RATE_C" ]]; then # the C floor for W4, in the same minute
    pre=(); [[ $mode == pinned ]] && pre=(taskset -c 0)
    out=$("${pre[@]}" "$SPAWN_RATE_C" count=2000 warmup=2000) || FAILED=1
    echo "$out"; echo
    while IFS= read -r l; do ALL+=("[$mode] $l"); done < <(grep '^RESULT ' <<<"$out" || true)
  fi
done

echo "=============== all RESULT lines ==============="
printf '%s\n' "${ALL[@]}"
exit $FAILED
