#!/usr/bin/env bash
# Benchmarks the Raft model checker (`raftlab check raft`, DFS with symmetry reduction)
# on the default bounds and on a larger configuration, on 1 and 2 threads: unique
# states, total states, maximum depth, wall time and states per second.
# Usage: bench/models.sh [EXTRA FLAGS FOR THE LARGER CONFIGURATION...]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p raftlab-models >/dev/null 2>&1
bin=target/release/raftlab
larger=("$@")
if [ ${#larger[@]} -eq 0 ]; then
  larger=(--max-term 3 --no-duplicates)
fi
run() {
  local label=$1; shift
  for threads in 1 2; do
    local start end out
    start=$(date +%s.%N)
    # Exit code 2 (a `sometimes` property not reached) is a result, not a failure.
    out=$("$bin" check raft --quiet --threads "$threads" "$@" || true)
    end=$(date +%s.%N)
    printf '%-8s %d thread(s) %-40s %s (wall %.1f s)\n' "$label" "$threads" "[$*]" \
      "$(echo "$out" | sed -n 2p)" "$(echo "$end - $start" | bc)"
  done
}
run default
run larger "${larger[@]}"
