#!/usr/bin/env bash
# Throughput and latency of a real 3-server raftlab cluster on this machine, measured with
# redis-benchmark (Debian's redis-tools), and its failover time after kill -9 of the leader.
#
#   bench/serve.sh [--runs R] [-n REQUESTS] [-c CLIENTS] [--fsync always|never] [--no-failover]
#
# For each run it starts nothing new: one cluster (`raftlab cluster`, data in a temporary
# directory) serves every run; each run is `redis-benchmark -t set,get -n N -c C` against the
# leader's port and then against a follower's (which forwards to the leader).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3 N=100000 C=50 FSYNC=always FAILOVER=1 BASE=17379
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        -n) N=$2; shift 2 ;;
        -c) C=$2; shift 2 ;;
        --fsync) FSYNC=$2; shift 2 ;;
        --no-failover) FAILOVER=0; shift ;;
        --base-port) BASE=$2; shift 2 ;;
        *) echo "bench/serve.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
command -v redis-benchmark >/dev/null || { echo "bench/serve.sh needs redis-benchmark (apt-get install -y redis-tools)" >&2; exit 2; }

cargo build --release -p raftlab-models --bin raftlab --example failover >&2
BIN=target/release/raftlab
DATA=$(mktemp -d)
"$BIN" cluster --servers 3 --data "$DATA/data" --base-port "$BASE" --fsync "$FSYNC" --no-restart \
    > "$DATA/cluster.out" 2>&1 &
CLUSTER=$!
trap 'kill -INT $CLUSTER 2>/dev/null; wait $CLUSTER 2>/dev/null; rm -rf "$DATA"' EXIT

leader_port() {
    for i in 0 1 2; do
        p=$((BASE + i))
        if redis-cli -p "$p" INFO 2>/dev/null | grep -q '^role:leader'; then echo "$p"; return; fi
    done
    return 1
}
for _ in $(seq 100); do leader_port >/dev/null && break; sleep 0.1; done

# redis-benchmark's summary: "SET ... throughput summary: X requests per second" and the
# line after "latency summary (msec):" header: avg min p50 p95 p99 max.
bench() {
    local port=$1
    redis-benchmark -p "$port" -t set,get -n "$N" -c "$C" 2>/dev/null | tr '\r' '\n' | awk '
        /^====== / { test=$2 }
        /throughput summary/ { tput[test]=$3 }
        /latency summary/ { getline; getline; p50[test]=$3; p99[test]=$5 }
        END { for (t in tput) printf "%s %s %s %s\n", t, tput[t], p50[t], p99[t] }'
}

echo "raftlab, 3 servers on 127.0.0.1, fsync $FSYNC; redis-benchmark -t set,get -n $N -c $C"
printf "%-4s %-9s %-5s %12s %9s %9s\n" run via test ops/s p50_ms p99_ms
for run in $(seq "$RUNS"); do
    L=$(leader_port)
    F=$(( BASE + ( (L - BASE + 1) % 3 ) ))
    for via in leader follower; do
        port=$L; [ $via = follower ] && port=$F
        bench "$port" | sort | while read -r t tput p50 p99; do
            printf "%-4s %-9s %-5s %12s %9s %9s\n" "$run" "$via" "$t" "$tput" "$p50" "$p99"
        done
    done
done

if [ "$FAILOVER" = 1 ]; then
    kill -INT $CLUSTER; wait $CLUSTER 2>/dev/null || true
    target/release/examples/failover "$RUNS" -- --fsync "$FSYNC"
fi
