#!/usr/bin/env bash
# raftlab-checker against porcupine (the Go checker of MIT 6.5840) on the same
# history files, each checker timing only its check (not reading the file).
#
#  1. Go: the `go` on PATH, else Debian's golang-go (apt-get, as root).
#  2. bench/porcupine: our Go harness over porcupine's public API. It needs
#     porcupine v1.3.0 or later (its models give porcupine a state Hash, which
#     porcupine's state cache relies on since v1.3.0). With PORCUPINE_DIR (a local
#     checkout of github.com/anishathalye/porcupine, e.g. a tag checked out in a
#     temporary directory) the harness is built from a copy of bench/porcupine
#     whose go.mod points there (`replace`), offline (GOPROXY=off); otherwise
#     `go mod download` fetches the version in bench/porcupine/go.mod from the Go
#     module proxy. The version used is reported as `git describe` of
#     PORCUPINE_DIR, or the module's version.
#  3. The Rust side: the checker bench binary (`--export`, `--time`, see
#     checker/benches/checker.rs) and `raftlab lincheck`.
#  4. Exports the histories of `cargo bench -p raftlab-checker` (key/value ones as
#     Jepsen EDN, register ones as jepsen.util logs, plus our JSON lines) and checks
#     that `raftlab lincheck` reads every file back with the expected verdict.
#  5. Parity: bench/porcupine/parity/*, small histories whose expected verdict is in
#     the file name, pin how both sides read :fail/:info/open operations.
#  6. Porcupine's own test histories, as checker/tests/data/porcupine/expected.tsv
#     lists them with the verdict porcupine's tests expect: its Jepsen etcd logs
#     (register), its key/value logs partitioned by key (model kv, its TestKv*) and
#     unpartitioned (model map, its TestKvNoPartition*). C50_MAP=1 adds the two
#     50-client key/value logs unpartitioned (porcupine has no test for those).
#  7. Times both checkers, fast and verbose mode, and prints the tables: wall-clock
#     medians, CPU-time medians (all threads), peak resident memory, a summary per
#     group of histories, and every verdict disagreement.
#
# Usage: bench/vs-porcupine.sh [OUTDIR]            (default: target/vs-porcupine)
# Environment:
#   RUNS (11) MIN_RUNS (3) BUDGET (2): at most RUNS runs per checker and mode, at
#     least MIN_RUNS, stopping once BUDGET seconds were spent; the median is reported.
#   TIMEOUT (30): seconds per check; a check that runs out reports Unknown (">T").
#   MEM_LIMIT (2048): MiB of memory per checker process; a check that takes more is
#     stopped and reports Unknown (">MEM"): porcupine's verbose mode otherwise takes
#     gigabytes on the histories it cannot decide (50-client kv, c50-bad).
#   THREADS (0): worker threads on both sides (raftlab --threads, Go GOMAXPROCS);
#     0 leaves both at one per core.
#   TEST_DATA (1): 0 skips porcupine's test histories; ETCD_LIMIT (all): time only
#     the first N of its Jepsen etcd logs. C50_MAP (0): see step 6.
#   BENCH_HISTORIES (1): 0 skips the generated histories and the parity files.
#   ONLY: an extended regular expression: time only the histories whose label
#     matches (labels as in the table, e.g. ONLY='^porcupine:kv/').
#   PORCUPINE_DIR: a local porcupine checkout to build against (see step 2).
#   PORCUPINE_BENCH: a porcupine-bench binary built elsewhere (skips step 2).
# Raw RESULT/STATS lines are kept in OUTDIR/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-target/vs-porcupine}
mkdir -p "$out"
out=$(cd "$out" && pwd)
RUNS=${RUNS:-11}
MIN_RUNS=${MIN_RUNS:-3}
BUDGET=${BUDGET:-2}
TIMEOUT=${TIMEOUT:-30}
MEM_LIMIT=${MEM_LIMIT:-2048}
THREADS=${THREADS:-0}
TEST_DATA=${TEST_DATA:-1}
ETCD_LIMIT=${ETCD_LIMIT:-}
C50_MAP=${C50_MAP:-0}
BENCH_HISTORIES=${BENCH_HISTORIES:-1}
data=$root/checker/tests/data/porcupine
results=$out/results.txt
: >"$results"
: >"$out/errors.log"
notes=()

# ---- Go and porcupine
if [ -z "${PORCUPINE_BENCH:-}" ] && ! command -v go >/dev/null 2>&1 &&
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's golang-go" >&2
  apt-get update >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y golang-go >/dev/null 2>&1 || true
fi
porc=${PORCUPINE_BENCH:-}
porc_version=
if [ -n "$porc" ]; then
  echo "using the porcupine harness $porc" >&2
  porc_version=$("$porc" -version 2>/dev/null || echo unknown)
elif ! command -v go >/dev/null 2>&1; then
  notes+=("no Go toolchain: porcupine columns are n/a")
elif [ -n "${PORCUPINE_DIR:-}" ]; then
  pdir=$(cd "$PORCUPINE_DIR" && pwd)
  porc_version=$(git -C "$pdir" describe --tags --always --dirty 2>/dev/null ||
    echo "unknown (not a git checkout: $pdir)")
  echo "building the porcupine harness against $pdir ($porc_version, $(go version))" >&2
  src=$out/porcupine-src
  rm -rf "$src"
  mkdir -p "$src"
  cp bench/porcupine/go.mod bench/porcupine/main.go "$src"/
  if (cd "$src" &&
      go mod edit -replace "github.com/anishathalye/porcupine=$pdir" &&
      GOFLAGS=-mod=mod GOPROXY=off go build \
        -ldflags "-X 'main.porcupineVersion=$porc_version'" -o "$out/porcupine-bench" .) \
      >"$out/go-build.log" 2>&1; then
    porc=$out/porcupine-bench
  else
    notes+=("porcupine harness not built against $pdir (see $out/go-build.log: $(head -1 "$out/go-build.log" | cut -c1-160)); porcupine columns are n/a. The harness needs porcupine v1.3.0 or later (Model.Hash)")
  fi
else
  echo "building the porcupine harness from the Go module proxy ($(go version))" >&2
  if (cd bench/porcupine &&
      go mod download github.com/anishathalye/porcupine &&
      go mod tidy &&
      v=$(go list -m -f '{{.Version}}' github.com/anishathalye/porcupine) &&
      go build -ldflags "-X 'main.porcupineVersion=$v'" -o "$out/porcupine-bench" .) \
      >"$out/go-build.log" 2>&1; then
    porc=$out/porcupine-bench
    porc_version=$("$porc" -version)
  else
    notes+=("porcupine harness not built (see $out/go-build.log: $(grep -m1 -v '^go: downloading' "$out/go-build.log" | cut -c1-160)); porcupine columns are n/a. Without the Go module proxy, set PORCUPINE_DIR to a local checkout of porcupine (v1.3.0 or later)")
  fi
fi
[ -n "$porc_version" ] || porc_version="n/a"

# ---- Rust
echo "building raftlab and the checker bench (release)" >&2
cargo build --release -p raftlab-models >"$out/cargo-build.log" 2>&1
bench=$(cargo bench -p raftlab-checker --bench checker --no-run 2>&1 |
  sed -n 's/.*Executable.*(\(.*\)).*/\1/p' | tail -1)
[ -x "$bench" ] || { echo "cannot find the checker bench binary" >&2; exit 1; }
lincheck=$root/target/release/raftlab

hist=$out/histories
rm -rf "$hist"
"$bench" --export "$hist" >&2

verdict_of_exit() {
  case $1 in 0) echo Ok ;; 1) echo Illegal ;; 2) echo Unknown ;; *) echo "error($1)" ;; esac
}
lincheck_verdict() { # FILE [--model M]
  local rc=0
  "$lincheck" lincheck "$@" --timeout "$TIMEOUT" >/dev/null 2>&1 || rc=$?
  verdict_of_exit "$rc"
}
field() { # NAME LINE
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

# ---- lincheck reads the exported files back
if [ "$BENCH_HISTORIES" = 1 ]; then
  echo >&2
  echo "== raftlab lincheck on the exported files (expected verdict from the generator)" >&2
  readback_bad=0
  while IFS=$'\t' read -r id file model expected _name; do
    [ "$id" = id ] && continue
    for f in "$file" "$id.jsonl"; do
      v=$(lincheck_verdict "$hist/$f" --model "$model")
      [ "$v" = "$expected" ] || readback_bad=1
      printf '  %-26s %-9s expected %-8s lincheck %s\n' "$f" "$model" "$expected" "$v" >&2
    done
  done <"$hist/manifest.tsv"
  [ $readback_bad = 0 ] || notes+=("raftlab lincheck read an exported file back with an unexpected verdict (see above)")
fi

# ---- the rows: label|file|expected|model|group
rows=()
add_row() { # LABEL FILE EXPECTED MODEL GROUP
  if [ -n "${ONLY:-}" ] && ! grep -q -E -e "$ONLY" <<<"$1"; then return 0; fi
  rows+=("$1|$2|$3|$4|$5")
}

if [ "$BENCH_HISTORIES" = 1 ]; then
  while IFS=$'\t' read -r id file model expected _name; do
    [ "$id" = id ] && continue
    add_row "$id" "$hist/$file" "$expected" "$model" generated
  done <"$hist/manifest.tsv"
  for f in bench/porcupine/parity/*; do
    base=$(basename "$f")
    expected=$(cut -d. -f2 <<<"$base")
    case $base in kv-*) m=kv ;; *) m=register ;; esac
    add_row "parity/${base%%.*}" "$root/$f" "$expected" "$m" parity
  done
fi

if [ "$TEST_DATA" = 1 ] && [ -f "$data/expected.tsv" ]; then
  etcd=0
  while IFS=$'\t' read -r file model expected; do
    [ "$file" = file ] && continue
    case $file in
      jepsen/*)
        etcd=$((etcd + 1))
        if [ -n "$ETCD_LIMIT" ] && [ "$etcd" -gt "$ETCD_LIMIT" ]; then continue; fi
        group="etcd (register)"
        ;;
      *) if [ "$model" = map ]; then group="kv unpartitioned"; else group="kv partitioned"; fi ;;
    esac
    label="porcupine:$file"
    [ "$model" = map ] && label="$label [map]"
    add_row "$label" "$data/$file" "$expected" "$model" "$group"
  done <"$data/expected.tsv"
  if [ "$C50_MAP" = 1 ]; then
    add_row "porcupine:kv/c50-ok.txt [map]" "$data/kv/c50-ok.txt" Ok map "kv unpartitioned, 50 clients"
    add_row "porcupine:kv/c50-bad.txt [map]" "$data/kv/c50-bad.txt" Illegal map "kv unpartitioned, 50 clients"
  fi
elif [ "$TEST_DATA" = 1 ]; then
  notes+=("porcupine's test histories not found ($data/expected.tsv)")
fi

ours() { # FILE MODEL MODE [extra]
  local file=$1 model=$2 mode=$3; shift 3
  local args=(--time "$file" --mode "$mode" --runs "$RUNS" --min-runs "$MIN_RUNS"
    --budget "$BUDGET" --timeout "$TIMEOUT" --threads "$THREADS" --mem-limit "$MEM_LIMIT")
  [ -n "$model" ] && args+=(--model "$model")
  "$bench" "${args[@]}" "$@" 2>>"$out/errors.log" | tee -a "$results" || true
}
theirs() { # FILE MODEL MODE
  [ -n "$porc" ] || return 0
  local file=$1 model=$2 mode=$3
  local args=(-mode "$mode" -runs "$RUNS" -min-runs "$MIN_RUNS" -budget "$BUDGET"
    -timeout "$TIMEOUT" -procs "$THREADS" -mem-limit "$MEM_LIMIT")
  [ -n "$model" ] && args+=(-model "$model")
  "$porc" "${args[@]}" "$file" 2>>"$out/errors.log" | tee -a "$results" || true
}

declare -A cell=()
echo >&2
echo "== timing ${#rows[@]} histories (this takes a while)" >&2
for row in "${rows[@]}"; do
  IFS='|' read -r label file expected model _group <<<"$row"
  echo "  $label" >&2
  of=$(ours "$file" "$model" fast --stats)
  ov=$(ours "$file" "$model" verbose)
  pf=$(theirs "$file" "$model" fast)
  pv=$(theirs "$file" "$model" verbose)
  stats=$(grep '^STATS' <<<"$of" || true)
  of=$(grep '^RESULT' <<<"$of" || true)
  cell["$label"]="$stats"$'\n'"$of"$'\n'"$ov"$'\n'"$pf"$'\n'"$pv"
done

cell_line() { sed -n "$2p" <<<"${cell["$1"]}"; } # LABEL N (1 stats, 2-5 results)
undecided() { # RESULT-LINE: prints the cell for an undecided run, or nothing
  local line=$1
  [ "$(field verdict "$line")" = Unknown ] || return 0
  if [ "$(field reason "$line")" = memory ]; then echo ">${MEM_LIMIT}MiB"; else echo ">${TIMEOUT}s"; fi
}
show_ms() { # RESULT-LINE KEY
  local line=$1 key=$2 u
  [ -n "$line" ] || { echo n/a; return; }
  u=$(undecided "$line")
  if [ -n "$u" ]; then echo "$u"; else echo "$(field "$key" "$line")"; fi
}
show_rss() { # RESULT-LINE: peak resident MiB
  local v
  [ -n "$1" ] || { echo n/a; return; }
  v=$(field peak_rss_kib "$1")
  awk -v k="$v" 'BEGIN { if (k+0 > 0) printf "%.0f", k / 1024; else printf "n/a" }'
}
ratio() { # OURS THEIRS
  awk -v o="$1" -v p="$2" 'BEGIN { if (p+0 > 0 && o+0 > 0 && p !~ />/ && o !~ />/) printf "%.2f", o / p; else printf "-" }'
}
verd() { [ -n "$1" ] && field verdict "$1" || echo n/a; }

table() { # KEY TITLE
  local key=$1
  echo
  echo "$2"
  printf '%-40s %6s %5s %-8s %-8s %-8s %11s %11s %11s %11s %7s %7s %6s %6s\n' \
    history ops procs expected raftlab porc "ours fast" "ours verb" "porc fast" "porc verb" "r/p f" "r/p v" "MiB r" "MiB p"
  for row in "${rows[@]}"; do
    IFS='|' read -r label file expected _model _group <<<"$row"
    local stats of ov pf pv a b x y
    stats=$(cell_line "$label" 1); of=$(cell_line "$label" 2); ov=$(cell_line "$label" 3)
    pf=$(cell_line "$label" 4); pv=$(cell_line "$label" 5)
    a=$(show_ms "$of" "$key"); b=$(show_ms "$ov" "$key")
    x=$(show_ms "$pf" "$key"); y=$(show_ms "$pv" "$key")
    printf '%-40s %6s %5s %-8s %-8s %-8s %11s %11s %11s %11s %7s %7s %6s %6s\n' \
      "${label:0:40}" "$(field ops "$stats")" "$(field clients "$stats")" "${expected:--}" \
      "$(verd "$of")" "$(verd "$pf")" "$a" "$b" "$x" "$y" "$(ratio "$a" "$x")" "$(ratio "$b" "$y")" \
      "$(show_rss "$ov")" "$(show_rss "$pv")"
  done
}

echo
echo "# raftlab-checker vs porcupine $porc_version — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg | tr '\n' ' ')"
echo "# $(rustc --version); $(command -v go >/dev/null && go version || echo 'no Go')"
echo "# threads: $([ "$THREADS" = 0 ] && echo "one per core on both sides" || echo "$THREADS on both sides")"
echo "# runs: at most $RUNS, at least $MIN_RUNS, ${BUDGET}s budget per checker and mode; timeout ${TIMEOUT}s and ${MEM_LIMIT} MiB per check"
echo "# 'procs' = distinct client/process ids; ratios are raftlab / porcupine (< 1: raftlab faster); ms are medians;"
echo "# MiB = peak resident memory of the verbose-mode process (reading the file included)"
table median_ms "## wall-clock milliseconds (median)"
table cpu_median_ms "## CPU milliseconds, all threads (median)"

echo
echo "## summary per group: sums of the medians over the group's histories (a group with an"
echo "## undecided check has no sum for that side), the largest peak resident memory, and how"
echo "## many histories every decided run (both checkers, both modes) agrees with the expected verdict on"
printf '%-30s %5s %7s %10s %10s %6s %10s %10s %6s %10s %10s %6s %6s %6s\n' group n agree \
  "r fast ms" "p fast ms" "r/p" "r verb ms" "p verb ms" "r/p" "r cpu ms" "p cpu ms" "r/p" "MiB r" "MiB p"
declare -A seen_group=()
for row in "${rows[@]}"; do
  IFS='|' read -r _ _ _ _ group <<<"$row"
  [ -n "${seen_group["$group"]:-}" ] && continue
  seen_group["$group"]=1
  n=0 agree=0
  sums=(0 0 0 0 0 0) rss_r=0 rss_p=0
  for r2 in "${rows[@]}"; do
    IFS='|' read -r label _ expected _ g <<<"$r2"
    [ "$g" = "$group" ] || continue
    n=$((n + 1))
    of=$(cell_line "$label" 2); ov=$(cell_line "$label" 3)
    pf=$(cell_line "$label" 4); pv=$(cell_line "$label" 5)
    ok=1
    for line in "$of" "$ov" "$pf" "$pv"; do
      [ -n "$line" ] || continue
      v=$(field verdict "$line")
      if [ "$v" != Unknown ] && [ -n "$expected" ] && [ "$v" != "$expected" ]; then ok=0; fi
    done
    agree=$((agree + ok))
    i=0
    for pair in "$of median_ms" "$pf median_ms" "$ov median_ms" "$pv median_ms" "$of cpu_median_ms" "$pf cpu_median_ms"; do
      line=${pair% *} key=${pair##* }
      if [ -z "$line" ] || [ -n "$(undecided "$line")" ]; then
        sums[$i]=x
      elif [ "${sums[$i]}" != x ]; then
        sums[$i]=$(awk -v a="${sums[$i]}" -v b="$(field "$key" "$line")" 'BEGIN { printf "%.3f", a + b }')
      fi
      i=$((i + 1))
    done
    for line in "$of" "$ov"; do
      k=$(field peak_rss_kib "$line"); [ "${k:-0}" -gt "$rss_r" ] 2>/dev/null && rss_r=$k
    done
    for line in "$pf" "$pv"; do
      k=$(field peak_rss_kib "$line"); [ "${k:-0}" -gt "$rss_p" ] 2>/dev/null && rss_p=$k
    done
  done
  show_sum() { if [ "$1" = x ]; then echo "-"; else printf '%.1f' "$1"; fi; }
  printf '%-30s %5s %7s %10s %10s %6s %10s %10s %6s %10s %10s %6s %6s %6s\n' "${group:0:30}" "$n" "$agree/$n" \
    "$(show_sum "${sums[0]}")" "$(show_sum "${sums[1]}")" "$(ratio "${sums[0]}" "${sums[1]}")" \
    "$(show_sum "${sums[2]}")" "$(show_sum "${sums[3]}")" "$(ratio "${sums[2]}" "${sums[3]}")" \
    "$(show_sum "${sums[4]}")" "$(show_sum "${sums[5]}")" "$(ratio "${sums[4]}" "${sums[5]}")" \
    "$((rss_r / 1024))" "$([ -n "$porc" ] && echo $((rss_p / 1024)) || echo n/a)"
done

echo
echo "## history shapes (times in event positions for Jepsen files; overlap = mean number of"
echo "## other operations of the same partition (key) whose interval meets an operation's)"
printf '%-40s %6s %5s %5s %8s %7s %5s %6s %6s %6s %6s %6s %6s %8s %8s %7s\n' \
  history ops procs parts "ops/part" max open get put append read write cas overlap duration gap
for row in "${rows[@]}"; do
  IFS='|' read -r label _ _ _ _ <<<"$row"
  stats=$(cell_line "$label" 1)
  [ -n "$stats" ] || continue
  printf '%-40s %6s %5s %5s %8s %7s %5s %6s %6s %6s %6s %6s %6s %8s %8s %7s\n' "${label:0:40}" \
    "$(field ops "$stats")" "$(field clients "$stats")" "$(field partitions "$stats")" \
    "$(field ops_per_partition_mean "$stats")" "$(field ops_per_partition_max "$stats")" \
    "$(field open "$stats")" "$(field share_get "$stats")" "$(field share_put "$stats")" \
    "$(field share_append "$stats")" "$(field share_read "$stats")" "$(field share_write "$stats")" \
    "$(field share_cas "$stats")" "$(field overlap_same_partition_mean "$stats")" \
    "$(field duration_mean "$stats")" "$(field gap_mean "$stats")"
done

echo
echo "## verdict disagreements"
found=0
for row in "${rows[@]}"; do
  IFS='|' read -r label file expected _ _ <<<"$row"
  vs=()
  for i in 2 3 4 5; do
    line=$(cell_line "$label" "$i")
    [ -n "$line" ] && vs+=("$(field checker "$line")/$(field mode "$line")=$(field verdict "$line")")
  done
  decided=$(printf '%s\n' "${vs[@]+"${vs[@]}"}" "${expected:+expected=$expected}" |
    awk -F= '$NF != "" && $NF != "Unknown" && !seen[$NF]++ { n++ } END { print n + 0 }')
  if [ "$decided" -gt 1 ]; then
    found=1
    echo "  $label ($file): ${vs[*]}${expected:+ expected=$expected}"
  fi
done
[ $found = 1 ] || echo "  none (Unknown = out of time or memory is not counted as a disagreement)"
if [ -s "$out/errors.log" ]; then
  echo
  echo "## errors (from $out/errors.log)"
  sed 's/^/  /' "$out/errors.log" | head -20
fi
for n in "${notes[@]+"${notes[@]}"}"; do echo "# note: $n"; done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
