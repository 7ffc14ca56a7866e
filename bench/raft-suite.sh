#!/usr/bin/env bash
# Times the Lab 3 (Raft) suite on the simulator: once at the default seeds, and over
# RAFTLAB_SEEDS consecutive seeds per test (default 100). Prints wall and CPU time.
# Usage: bench/raft-suite.sh [SEEDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-100}
cargo test --release --test raft --no-run >/dev/null 2>&1
bin=$(cargo test --release --test raft --no-run 2>&1 | sed -n 's/.*Executable.*(\(.*\)).*/\1/p' | tail -1)
measure() {
  local label=$1; shift
  local start end
  start=$(date +%s.%N)
  /usr/bin/env time -f "%U %S" -o /tmp/raftlab-bench-time "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  read -r user sys < /tmp/raftlab-bench-time
  printf '%-28s wall %6.2f s   cpu %6.2f s\n' "$label" "$(echo "$end - $start" | bc)" "$(echo "$user + $sys" | bc)"
}
measure "raft suite, default seeds" "$bin" --test-threads=2
RAFTLAB_SEEDS=$seeds measure "raft suite, $seeds seeds" "$bin" --test-threads=2
