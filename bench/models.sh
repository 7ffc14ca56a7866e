#!/usr/bin/env bash
# Benchmarks the Raft model checker (`raftlab check raft`, DFS with symmetry reduction):
# terms <= 2 and the default bounds (terms <= 3) on 1 and 2 threads, then a larger
# configuration on 2 threads with a time limit (by default the bounds of issue 13:
# terms <= 3, logs <= 2, 3 in flight, 600 s). Prints, for each, the checker's summary
# line (unique and total states, maximum depth, time, states per second, whether it
# was exhaustive) and the wall and CPU seconds bash measured.
# Usage: bench/models.sh [FLAGS FOR THE LARGER CONFIGURATION...]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p raftlab-models --bin raftlab >/dev/null 2>&1
bin=target/release/raftlab
larger=("$@")
if [ ${#larger[@]} -eq 0 ]; then
  larger=(--max-term 3 --max-log 2 --max-in-flight 3 --timeout 600)
fi
out=$(mktemp)
times=$(mktemp)
trap 'rm -f "$out" "$times"' EXIT
run() {
  local label=$1 threads=$2; shift 2
  local TIMEFORMAT='%R %U %S'
  # Exit codes 2 (a `sometimes` property not reached) and 4 (not exhaustive) are
  # results, not failures.
  { time "$bin" check raft --quiet --threads "$threads" "$@" > "$out" 2>&1 || true; } 2> "$times"
  local wall user sys
  read -r wall user sys < "$times"
  printf '%-8s %d thread(s) %-55s %s (wall %.1f s, cpu %.1f s)\n' "$label" "$threads" "[$*]" \
    "$(sed -n 2p "$out")" "$wall" "$(echo "$user + $sys" | bc)"
}
for threads in 1 2; do
  run terms2 "$threads" --max-term 2
done
for threads in 1 2; do
  run default "$threads"
done
run larger 2 "${larger[@]}"
