#!/usr/bin/env bash
# raftlab beside etcd on this machine: a 3-server raftlab cluster and a 3-member etcd
# cluster, both on loopback, both fsyncing, data under one temporary directory, driven by
# one load generator (bench/load: closed-loop clients, 256-byte values) back to back at
# each point.
#
#   bench/vs-etcd.sh [--quick] [--points 1,16,64,256] [--mixes put,get90] [--seconds S]
#                    [--warmup S] [--via leader,spread] [--etcd-conns C] [--keys K]
#                    [--no-perf] [--keep]
#
# --quick: one short point per mix (64 clients, 3 s after 1 s of warm-up), well under a
#   minute once built.
# --via: how raftlab's clients reach it: `spread` (client i connects to server i mod 3;
#   followers forward to the leader) and/or `leader` (every client on the leader's port).
#   etcd's clients always get its three endpoints, as an etcd client is normally given.
# --etcd-conns: etcd clients (gRPC connections, each balanced over the three endpoints)
#   that the logical clients share; default one per logical client, as raftlab's.
# Reads: raftlab's go through the Raft log; etcd's are its default, linearizable ones
#   (a quorum read-index round). Both are linearizable.
# Per point it also reads the servers' CPU time from /proc (server CPU per operation) and,
# where `perf` can count tracepoints, the fsync/fdatasync calls of the three servers.
set -euo pipefail
cd "$(dirname "$0")/.."

POINTS=1,16,64,256 MIXES=put,get90 SECS=10 WARMUP=2 VIA=leader,spread ETCD_CONNS="" KEYS=1000
PERF=1 KEEP=0 QUICK=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1; shift ;;
        --points) POINTS=$2; shift 2 ;;
        --mixes) MIXES=$2; shift 2 ;;
        --seconds) SECS=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --via) VIA=$2; shift 2 ;;
        --etcd-conns) ETCD_CONNS=$2; shift 2 ;;
        --keys) KEYS=$2; shift 2 ;;
        --no-perf) PERF=0; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench/vs-etcd.sh: unknown argument $1 (see --help)" >&2; exit 3 ;;
    esac
done
if [ "$QUICK" = 1 ]; then POINTS=64 SECS=3 WARMUP=1 VIA=spread; fi

if ! command -v etcd >/dev/null; then
    echo "bench/vs-etcd.sh: installing Debian's etcd-server (etcd)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >&2
fi
if ! command -v protoc >/dev/null; then
    echo "bench/vs-etcd.sh: installing protobuf-compiler (the etcd client crate's build needs protoc)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q protobuf-compiler >&2
fi
command -v redis-cli >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-tools >&2
if [ "$PERF" = 1 ] && ! perf stat -e syscalls:sys_enter_fdatasync true >/dev/null 2>&1; then
    echo "bench/vs-etcd.sh: perf cannot count syscall tracepoints here; no fsync column" >&2
    PERF=0
fi

cargo build --release -p raftlab-models --bin raftlab >&2
cargo build --release --manifest-path bench/load/Cargo.toml >&2
RAFTLAB=target/release/raftlab
LOAD=bench/load/target/release/raftlab-load
ETCD_VERSION=$(etcd --version | sed -n 's/^etcd Version: //p')

LOAD0=$(cut -d' ' -f1 /proc/loadavg)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vs-etcd.XXXXXX")
PIDS=() PERF_PID=
cleanup() {
    local code=$?
    [ -n "$PERF_PID" ] && kill -TERM "$PERF_PID" 2>/dev/null
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for _ in $(seq 50); do
        local alive=0
        for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "$KEEP" = 1 ] || [ $code != 0 ]; then
        echo "bench/vs-etcd.sh: data and logs kept in $TMP" >&2
    else
        rm -rf "$TMP"
    fi
    exit $code
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Ports: raftlab clients 27379-27381, peers 27479-27481; etcd clients 23791-23793, peers
# 23801-23803.
# The disk's fsync latency, measured where the data goes: 500 appends of 4 KiB with
# O_DSYNC (a write and an fdatasync each), before any server starts.
DD_S=$(LC_ALL=C dd if=/dev/zero of="$TMP/fsync-probe" bs=4k count=500 oflag=dsync 2>&1 |
    sed -n 's/.* copied, \([0-9.]*\) s.*/\1/p')
rm -f "$TMP/fsync-probe"
FSYNC_MS=$(awk -v s="${DD_S:-0}" 'BEGIN { printf "%.2f", s * 1000 / 500 }')

R_CLIENT=(127.0.0.1:27379 127.0.0.1:27380 127.0.0.1:27381)
R_PEERS=127.0.0.1:27479,127.0.0.1:27480,127.0.0.1:27481
for i in 0 1 2; do
    mkdir -p "$TMP/raftlab/s$i"
    "$RAFTLAB" serve --id "$i" --peers "$R_PEERS" --client "${R_CLIENT[$i]}" \
        --data "$TMP/raftlab/s$i" --fsync always 2> "$TMP/raftlab/s$i.log" &
    PIDS+=($!)
done
R_PIDS=("${PIDS[@]:0:3}")

E_CLUSTER=e0=http://127.0.0.1:23801,e1=http://127.0.0.1:23802,e2=http://127.0.0.1:23803
E_CLIENT=(127.0.0.1:23791 127.0.0.1:23792 127.0.0.1:23793)
for i in 0 1 2; do
    mkdir -p "$TMP/etcd"
    etcd --name "e$i" --data-dir "$TMP/etcd/e$i" \
        --listen-client-urls "http://${E_CLIENT[$i]}" --advertise-client-urls "http://${E_CLIENT[$i]}" \
        --listen-peer-urls "http://127.0.0.1:$((23801 + i))" \
        --initial-advertise-peer-urls "http://127.0.0.1:$((23801 + i))" \
        --initial-cluster "$E_CLUSTER" --initial-cluster-token vs-etcd --initial-cluster-state new \
        --logger zap --log-level warn 2> "$TMP/etcd/e$i.log" &
    PIDS+=($!)
done
E_PIDS=("${PIDS[@]:3:3}")

raftlab_leader() {
    for i in 0 1 2; do
        if redis-cli -h 127.0.0.1 -p "${R_CLIENT[$i]##*:}" INFO 2>/dev/null | grep -q '^role:leader'; then
            echo "$i"; return 0
        fi
    done
    return 1
}
for _ in $(seq 100); do raftlab_leader >/dev/null && break; sleep 0.1; done
RL=$(raftlab_leader) || { echo "bench/vs-etcd.sh: raftlab elected no leader in 10 s (logs in $TMP/raftlab)" >&2; exit 1; }
E_EPS=$(IFS=,; echo "${E_CLIENT[*]}")
for _ in $(seq 100); do
    etcdctl --endpoints "$E_EPS" endpoint health >/dev/null 2>&1 && break; sleep 0.1
done
etcdctl --endpoints "$E_EPS" endpoint health >/dev/null 2>&1 ||
    { echo "bench/vs-etcd.sh: etcd is not healthy after 10 s (logs in $TMP/etcd)" >&2; exit 1; }
# Every raftlab process is running (a crash would make the numbers meaningless).
for p in "${PIDS[@]}"; do kill -0 "$p" || { echo "bench/vs-etcd.sh: server pid $p died (logs in $TMP)" >&2; exit 1; }; done

# Preload every key once, so reads find 256-byte values.
"$LOAD" --system raftlab --endpoints "$(IFS=,; echo "${R_CLIENT[*]}")" --clients 16 --mix preload --keys "$KEYS" > "$TMP/preload.out"
"$LOAD" --system etcd --endpoints "$E_EPS" --clients 16 --mix preload --keys "$KEYS" >> "$TMP/preload.out"

# Sum of utime+stime (clock ticks) of the given pids.
cpu_ticks() {
    local t=0 p
    for p in "$@"; do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo $t
}
HZ=$(getconf CLK_TCK)

# Stops a `perf stat -p` (SIGINT makes it print its counts). A background job of a
# script starts with SIGINT ignored until perf installs its handler, so a perf that has
# not got that far is ended with SIGTERM after 2 s.
stop_perf() {
    kill -INT "$1" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    PERF_PID=
}

# One measurement: mix, clients, label, server pids (comma list), then the load
# generator's arguments. Appends to rows.txt:
#   mix clients label ops_s p50_us p99_us errors cpu_us_per_op fsyncs_per_op load_cpu_us_per_op
measure() {
    local mix=$1 n=$2 label=$3 pids=$4; shift 4
    local -a pl
    IFS=, read -r -a pl <<< "$pids"
    local c0 c1 out fs=- perfpid=
    c0=$(cpu_ticks "${pl[@]}")
    if [ "$PERF" = 1 ]; then
        perf stat -x, -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync -p "$pids" \
            -o "$TMP/perf.$label.csv" &
        perfpid=$!
        PERF_PID=$perfpid
    fi
    if ! out=$("$LOAD" "$@"); then
        [ -n "$perfpid" ] && stop_perf "$perfpid"
        echo "bench/vs-etcd.sh: the load generator failed on $label $mix $n (logs in $TMP)" >&2
        exit 1
    fi
    if [ -n "$perfpid" ]; then stop_perf "$perfpid"; fi
    c1=$(cpu_ticks "${pl[@]}")
    echo "$label $out" >> "$TMP/raw.txt"
    local ops ops_s p50 p99 errors
    ops=$(sed -n 's/.* ops=\([0-9]*\).*/\1/p' <<< "$out")
    ops_s=$(sed -n 's/.* ops_s=\([0-9]*\).*/\1/p' <<< "$out")
    p50=$(sed -n 's/.* p50_us=\([0-9]*\).*/\1/p' <<< "$out")
    p99=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<< "$out")
    errors=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<< "$out")
    local load_cpu
    load_cpu=$(sed -n 's/.* cpu_s=\([0-9.]*\).*/\1/p' <<< "$out")
    # CPU over the whole run (warm-up included) divided by the operations of the whole
    # run, estimated from the counted window's rate.
    local total_s cpu_us
    total_s=$(awk -v s="$SECS" -v w="$WARMUP" 'BEGIN { print s + w }')
    cpu_us=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v r="$ops_s" -v t="$total_s" \
        'BEGIN { n = r * t; if (n > 0) printf "%.0f", d / hz * 1e6 / n; else print "-" }')
    if [ -n "$perfpid" ] && [ -f "$TMP/perf.$label.csv" ]; then
        fs=$(awk -F, -v r="$ops_s" -v t="$total_s" '$3 ~ /sys_enter_f/ { n += $1 }
            END { if (r > 0) printf "%.2f", n / (r * t); else print "-" }' "$TMP/perf.$label.csv")
    fi
    local load_us
    load_us=$(awk -v c="${load_cpu:-0}" -v r="$ops_s" -v t="$total_s" \
        'BEGIN { n = r * t; if (n > 0 && c > 0) printf "%.0f", c * 1e6 / n; else print "-" }')
    echo "$mix $n $label $ops_s $p50 $p99 $errors $cpu_us $fs $load_us" >> "$TMP/rows.txt"
}

R_ALL=$(IFS=,; echo "${R_CLIENT[*]}")
R_PIDLIST=$(IFS=,; echo "${R_PIDS[*]}")
E_PIDLIST=$(IFS=,; echo "${E_PIDS[*]}")
EC=()
[ -n "$ETCD_CONNS" ] && EC=(--etcd-conns "$ETCD_CONNS")
COMMON=(--seconds "$SECS" --warmup "$WARMUP" --keys "$KEYS" --value-bytes 256)

: > "$TMP/rows.txt"
IFS=, read -r -a MIX_LIST <<< "$MIXES"
IFS=, read -r -a POINT_LIST <<< "$POINTS"
IFS=, read -r -a VIA_LIST <<< "$VIA"
for mix in "${MIX_LIST[@]}"; do
    for n in "${POINT_LIST[@]}"; do
        for via in "${VIA_LIST[@]}"; do
            RL=$(raftlab_leader) || { echo "bench/vs-etcd.sh: raftlab has no leader" >&2; exit 1; }
            eps=$R_ALL
            [ "$via" = leader ] && eps=${R_CLIENT[$RL]}
            echo "  raftlab ($via) $mix $n clients ..." >&2
            measure "$mix" "$n" "raftlab-$via" "$R_PIDLIST" --system raftlab --endpoints "$eps" \
                --clients "$n" --mix "$mix" "${COMMON[@]}"
        done
        echo "  etcd $mix $n clients ..." >&2
        measure "$mix" "$n" etcd "$E_PIDLIST" --system etcd --endpoints "$E_EPS" \
            --clients "$n" --mix "$mix" "${COMMON[@]}" "${EC[@]}"
    done
done
for p in "${PIDS[@]}"; do kill -0 "$p" || { echo "bench/vs-etcd.sh: server pid $p died during the run (logs in $TMP)" >&2; exit 1; }; done

echo
echo "raftlab $(git describe --always --dirty 2>/dev/null || echo '?') vs etcd $ETCD_VERSION (Debian etcd-server), 3 servers each on 127.0.0.1, fsync on every commit"
echo "$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)); disk: a 4 KiB write + fdatasync takes ${FSYNC_MS} ms on average (dd oflag=dsync, 500 writes)"
echo "${SECS} s per point after ${WARMUP} s warm-up; ${KEYS} keys, 256-byte values; closed-loop clients"
echo "put: SET / Put only; get90: 90% GET / Range (both linearizable: raftlab through the log, etcd read-index), 10% SET / Put"
echo "raftlab-leader: every client on the leader; raftlab-spread: clients over the 3 servers (followers forward); etcd: its client's endpoint list (all 3)"
echo "ratio = raftlab / etcd at the same point; cpu: the 3 servers' CPU per operation; fsync: fsync+fdatasync calls of the 3 servers per operation;"
echo "load: the load generator's own CPU per operation; load average (1 min) before the run $LOAD0, after $(cut -d' ' -f1 /proc/loadavg)"
echo
awk -v perf="$PERF" '
    { mix=$1; n=$2; sys=$3; key=mix" "n
      row[NR]=$0; if (sys == "etcd") { eops[key]=$4; ep99[key]=$6 } }
    END {
      printf "%-5s %7s  %-15s %9s %9s %9s %7s %7s %8s %7s  %s\n", "mix", "clients", "system", "ops/s", "p50 ms", "p99 ms", "errors", "cpu us", "fsync/op", "load us", "ratio ops (p99)"
      for (i = 1; i <= NR; i++) {
        split(row[i], f, " "); key=f[1]" "f[2]
        ratio = "";
        if (f[3] != "etcd" && eops[key] > 0) ratio = sprintf("%.2fx", f[4] / eops[key]);
        if (f[3] != "etcd" && ep99[key] > 0) ratio = ratio sprintf(" (%.2fx)", f[6] / ep99[key]);
        printf "%-5s %7s  %-15s %9s %9.2f %9.2f %7s %7s %8s %7s  %s\n", f[1], f[2], f[3], f[4], f[5] / 1000, f[6] / 1000, f[7], f[8], f[9], f[10], ratio
      }
    }' "$TMP/rows.txt"
