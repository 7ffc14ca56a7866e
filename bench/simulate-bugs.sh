#!/usr/bin/env bash
# Random walks against every deliberate bug: for each bug of `raftlab::raft::Bug`,
# `raftlab check raft --simulate SEED --first --bug BUG` on large bounds (5 servers by
# default), once per seed, and per bug the median wall time to the first violation,
# how many seeds found one within the limit, and which properties broke.
#
# Usage: bench/simulate-bugs.sh [--seeds N] [--timeout SECS] [--threads K] [--bugs a,b]
#                               [-- BOUNDS FLAGS...]
# Defaults: 10 seeds (1..10), 60 s per walk, 1 thread, every bug, and the bounds
# --servers 5 --max-term 4 --max-log 3 --max-in-flight 10 --crashes 1.
# A seed that finds nothing within the limit counts as longer than the limit; a median
# past it prints as ">SECS". The bound on messages in flight is wide on purpose: a
# walk that steps past a bound ends there, and a candidate of 5 servers sends 4
# RequestVotes at once, so with 4 in flight two elections could never overlap.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=10
timeout=60
threads=1
bugs=""
bounds=(--servers 5 --max-term 4 --max-log 3 --max-in-flight 10 --crashes 1)
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --bugs) bugs=$2; shift 2 ;;
    --) shift; bounds=("$@"); break ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) echo "simulate-bugs.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in "$seeds" "$timeout" "$threads"; do
  if ! [[ "$v" =~ ^[0-9]+$ ]] || [ "$v" -eq 0 ]; then
    echo "simulate-bugs.sh: --seeds, --timeout and --threads take a positive integer, got $v" >&2
    exit 2
  fi
done

cargo build --release -p raftlab-models --bin raftlab >/dev/null 2>&1
bin=target/release/raftlab
if [ -z "$bugs" ]; then
  # The CLI names every bug when given one it does not know (and exits 2).
  bugs=$({ "$bin" check raft --bug '?' 2>&1 || true; } | sed -n 's/.*known: //p' | tr -d ' ' | head -1)
  if [ -z "$bugs" ]; then
    echo "simulate-bugs.sh: could not read the list of bugs from $bin check raft --bug '?'" >&2
    exit 1
  fi
fi

echo "bounds: ${bounds[*]}; $seeds seeds, ${timeout} s each, $threads thread(s)"
printf '%-26s %8s %6s  %s\n' bug median found properties
IFS=, read -r -a names <<< "$bugs"
for bug in "${names[@]}"; do
  times=()
  found=0
  props=""
  for seed in $(seq 1 "$seeds"); do
    set +e
    out=$("$bin" check raft --quiet --first --threads "$threads" --timeout "$timeout" \
      --simulate "$seed" --bug "$bug" "${bounds[@]}" 2>&1)
    code=$?
    set -e
    if [ "$code" -eq 1 ]; then
      found=$((found + 1))
      t=$(echo "$out" | sed -n 2p | sed -E 's/.*, ([0-9.]+) s, .*/\1/')
      times+=("$t")
      p=$(echo "$out" | awk '/VIOLATED/ { sub(/ +always +VIOLATED.*/, ""); print }' | paste -sd/ -)
      case ",$props," in *",$p,"*) ;; *) props="${props:+$props,}$p" ;; esac
    elif [ "$code" -eq 4 ]; then
      times+=("inf")
    else
      echo "simulate-bugs.sh: $bug seed $seed: exit $code" >&2
      echo "$out" | head -20 >&2
      exit 1
    fi
  done
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk -v n="${#times[@]}" -v lim="$timeout" '
    { v[NR] = $1 }
    END {
      m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] == "inf" || v[n / 2 + 1] == "inf") ? "inf" : (v[n / 2] + v[n / 2 + 1]) / 2
      if (m == "inf") printf(">%s", lim); else printf("%.2f s", m)
    }')
  printf '%-26s %8s %3d/%-2d  %s\n' "$bug" "$median" "$found" "$seeds" "${props:--}"
done
