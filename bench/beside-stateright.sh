#!/usr/bin/env bash
# raftlab's model checker beside stateright's own examples, in one run on this machine:
# unique states per CPU-second (user + system time, so per core) of
# `raftlab check raft` at its default bounds and of stateright's paxos and 2pc
# examples (the stateright release raftlab builds on, from cargo's registry), and the
# ratio of raftlab's figure to each.
#
# Usage: bench/beside-stateright.sh [--threads K] [-- FLAGS FOR check raft...]
# stateright's examples use every core (num_cpus); raftlab runs on K threads (2 by
# default, the number of cores here). Per CPU-second figures compare across thread
# counts; the wall times are printed beside them.
set -euo pipefail
cd "$(dirname "$0")/.."

threads=2
flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --) shift; flags=("$@"); break ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) echo "beside-stateright.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

version=$(grep -A1 '^name = "stateright"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p' | head -1)
if [ -z "$version" ]; then
  echo "beside-stateright.sh: cannot read stateright's version from Cargo.lock" >&2
  exit 1
fi
cargo build --release -p raftlab-models --bin raftlab >/dev/null 2>&1
cargo fetch >/dev/null 2>&1
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/stateright-"$version" 2>/dev/null | head -1)
if [ -z "$src" ] || [ ! -d "$src/examples" ]; then
  echo "beside-stateright.sh: stateright $version's sources (with examples) are not in cargo's registry" >&2
  exit 1
fi
work=${TMPDIR:-/tmp}/raftlab-beside-stateright-$version
if [ ! -x "$work/target/release/examples/paxos" ] || [ ! -x "$work/target/release/examples/2pc" ]; then
  rm -rf "$work"
  cp -r "$src" "$work"
  echo "building stateright $version's paxos and 2pc examples in $work ..." >&2
  (cd "$work" && cargo build --release --example paxos --example 2pc >/dev/null 2>&1) || {
    echo "beside-stateright.sh: building stateright's examples failed (cd $work && cargo build --release --example paxos)" >&2
    exit 1
  }
fi

log=$(mktemp)
times=$(mktemp)
trap 'rm -f "$log" "$times"' EXIT
# Runs a command and prints "UNIQUE TOTAL CPU_SECONDS WALL_SECONDS": the unique and
# total states that PARSE reads from its output, and bash's own timing of it.
measure() {
  local parse=$1; shift
  local TIMEFORMAT='%R %U %S'
  # raftlab exits 4 when a search is cut short: the figures are still its own.
  { time "$@" > "$log" 2>&1 || true; } 2> "$times"
  local unique wall user sys
  unique=$($parse < "$log")
  if [ -z "$unique" ] || [ "$(echo "$unique" | wc -w)" -ne 2 ]; then
    echo "beside-stateright.sh: no state count in the output of $*:" >&2
    tail -5 "$log" >&2
    exit 1
  fi
  read -r wall user sys < "$times"
  echo "$unique $(echo "$user + $sys" | bc) $wall"
}
raftlab_unique() { sed -n 's/^\([0-9]*\) unique states, \([0-9]*\) total.*/\1 \2/p' | head -1; }
stateright_unique() { sed -n 's/^Done\. states=\([0-9]*\), unique=\([0-9]*\),.*/\2 \1/p' | tail -1; }

printf '%-44s %10s %11s %8s %7s %13s %12s\n' run unique total cpu_s wall_s unique/cpu_s total/cpu_s
row() {
  local label=$1 unique=$2 total=$3 cpu=$4 wall=$5
  printf '%-44s %10s %11s %8.2f %7.2f %13.0f %12.0f\n' "$label" "$unique" "$total" "$cpu" "$wall" \
    "$(echo "$unique / $cpu" | bc -l)" "$(echo "$total / $cpu" | bc -l)"
}
read -r ru rt rc rw <<< "$(measure raftlab_unique target/release/raftlab check raft --quiet --threads "$threads" "${flags[@]}")"
row "raftlab check raft ${flags[*]} ($threads threads)" "$ru" "$rt" "$rc" "$rw"
rate=$(echo "$ru / $rc" | bc -l)
for ex in "paxos check-dfs 3" "2pc check 9"; do
  read -r -a args <<< "$ex"
  read -r su st sc sw <<< "$(measure stateright_unique "$work/target/release/examples/${args[0]}" "${args[@]:1}")"
  row "stateright $version examples/$ex" "$su" "$st" "$sc" "$sw"
  printf '  raftlab / %s, unique states per CPU-second: %.2f\n' "${args[0]}" "$(echo "$rate / ($su / $sc)" | bc -l)"
done
