#!/usr/bin/env bash
# raftlab-checker against porcupine v1.3.1 (the Go checker of MIT 6.5840) on the same
# history files, each checker timing only its check (not reading the file).
#
#  1. Go: the `go` on PATH, else Debian's golang-go (apt-get, as root).
#  2. bench/porcupine: our Go harness over porcupine's public API; `go mod download`
#     fetches porcupine v1.3.1 from the Go module proxy into the module cache (and
#     `go mod tidy` writes go.sum the first time: commit it).
#  3. The Rust side: the checker bench binary (`--export`, `--time`, see
#     checker/benches/checker.rs) and `raftlab lincheck`.
#  4. Exports the histories of `cargo bench -p raftlab-checker` (key/value ones as
#     Jepsen EDN, register ones as jepsen.util logs, plus our JSON lines) and checks
#     that `raftlab lincheck` reads every file back with the expected verdict.
#  5. Parity: bench/porcupine/parity/*, small histories whose expected verdict is in
#     the file name, pin how both sides read :fail/:info/open operations.
#  6. Porcupine's own test_data, read from the module cache (never copied here).
#  7. Times both checkers, fast and verbose mode, and prints the tables: wall-clock
#     medians, CPU-time medians (all threads), and every verdict disagreement.
#
# Usage: bench/vs-porcupine.sh [OUTDIR]            (default: target/vs-porcupine)
# Environment:
#   RUNS (11) MIN_RUNS (3) BUDGET (2): at most RUNS runs per checker and mode, at
#     least MIN_RUNS, stopping once BUDGET seconds were spent; the median is reported.
#   TIMEOUT (120): seconds per check; a check that runs out reports Unknown (">T").
#   THREADS (0): worker threads on both sides (raftlab --threads, Go GOMAXPROCS);
#     0 leaves both at one per core.
#   TEST_DATA (1): 0 skips porcupine's test_data; ETCD_LIMIT (all): time only the
#     first N of its Jepsen etcd logs.
#   ONLY: an extended regular expression: time only the histories whose label
#     matches (labels as in the table, e.g. ONLY='^porcupine:.*kv/').
#   PORCUPINE_BENCH: a porcupine-bench binary built elsewhere (skips step 2);
#     PORCUPINE_DIR: where porcupine's module source is (default: the module cache).
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
TIMEOUT=${TIMEOUT:-120}
THREADS=${THREADS:-0}
TEST_DATA=${TEST_DATA:-1}
ETCD_LIMIT=${ETCD_LIMIT:-}
results=$out/results.txt
: >"$results"
: >"$out/errors.log"
notes=()

# ---- Go and porcupine
if ! command -v go >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's golang-go" >&2
  apt-get update >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y golang-go >/dev/null 2>&1 || true
fi
porc=${PORCUPINE_BENCH:-}
moddir=${PORCUPINE_DIR:-}
if [ -n "$porc" ]; then
  echo "using the porcupine harness $porc" >&2
elif ! command -v go >/dev/null 2>&1; then
  notes+=("no Go toolchain: porcupine columns are n/a")
else
  echo "building the porcupine harness ($(go version))" >&2
  if (cd bench/porcupine &&
      go mod download github.com/anishathalye/porcupine &&
      go mod tidy &&
      go build -o "$out/porcupine-bench" .) >"$out/go-build.log" 2>&1; then
    porc=$out/porcupine-bench
    [ -n "$moddir" ] || moddir=$(cd bench/porcupine && go list -m -f '{{.Dir}}' github.com/anishathalye/porcupine)
  else
    notes+=("porcupine harness not built (see $out/go-build.log: $(grep -m1 -v '^go: downloading' "$out/go-build.log" | cut -c1-160)); porcupine columns are n/a. If porcupine needs a newer Go than this one, set GOTOOLCHAIN (Go >= 1.21) or try an older porcupine tag in bench/porcupine/go.mod")
  fi
fi

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

# ---- timing
rows=()        # label|file|expected
declare -A model_of=()
add_row() {
  if [ -n "${ONLY:-}" ] && ! grep -q -E -e "$ONLY" <<<"$1"; then return 0; fi
  rows+=("$1|$2|$3")
  model_of["$2"]=${4:-}
}

while IFS=$'\t' read -r id file model expected _name; do
  [ "$id" = id ] && continue
  add_row "$id" "$hist/$file" "$expected" "$model"
done <"$hist/manifest.tsv"

for f in bench/porcupine/parity/*; do
  base=$(basename "$f")
  expected=$(cut -d. -f2 <<<"$base")
  case $base in kv-*) m=kv ;; *) m=register ;; esac
  add_row "parity/${base%%.*}" "$root/$f" "$expected" "$m"
done

if [ "$TEST_DATA" = 1 ] && [ -n "$moddir" ] && [ -d "$moddir" ]; then
  etcd=0
  while IFS= read -r f; do
    first=$(grep -m1 -v -e '^[[:space:]]*$' "$f" || true)
    case $first in
      '{:'* | '{ :'*) ;;
      *) grep -q -e ':invoke' "$f" || continue ;;
    esac
    case $first in
      '{:'* | '{ :'*) ;;
      *)
        etcd=$((etcd + 1))
        if [ -n "$ETCD_LIMIT" ] && [ "$etcd" -gt "$ETCD_LIMIT" ]; then continue; fi
        ;;
    esac
    add_row "porcupine:${f#"$moddir"/}" "$f" "" ""
  done < <(find "$moddir" -path '*test_data*' -type f | LC_ALL=C sort)
elif [ "$TEST_DATA" = 1 ]; then
  notes+=("porcupine's test_data not found (the module is not in the Go module cache)")
fi

ours() { # FILE MODEL MODE [extra]
  local file=$1 model=$2 mode=$3; shift 3
  local args=(--time "$file" --mode "$mode" --runs "$RUNS" --min-runs "$MIN_RUNS"
    --budget "$BUDGET" --timeout "$TIMEOUT" --threads "$THREADS")
  [ -n "$model" ] && args+=(--model "$model")
  "$bench" "${args[@]}" "$@" 2>>"$out/errors.log" | tee -a "$results" || true
}
theirs() { # FILE MODEL MODE
  [ -n "$porc" ] || return 0
  local file=$1 model=$2 mode=$3
  local args=(-mode "$mode" -runs "$RUNS" -min-runs "$MIN_RUNS" -budget "$BUDGET"
    -timeout "$TIMEOUT" -procs "$THREADS")
  [ -n "$model" ] && args+=(-model "$model")
  "$porc" "${args[@]}" "$file" 2>>"$out/errors.log" | tee -a "$results" || true
}

declare -A cell=()
echo >&2
echo "== timing ${#rows[@]} histories (this takes a while)" >&2
for row in "${rows[@]}"; do
  IFS='|' read -r label file expected <<<"$row"
  model=${model_of["$file"]}
  echo "  $label" >&2
  of=$(ours "$file" "$model" fast --stats)
  ov=$(ours "$file" "$model" verbose)
  pf=$(theirs "$file" "$model" fast)
  pv=$(theirs "$file" "$model" verbose)
  stats=$(grep '^STATS' <<<"$of" || true)
  of=$(grep '^RESULT' <<<"$of" || true)
  cell["$label"]="$stats"$'\n'"$of"$'\n'"$ov"$'\n'"$pf"$'\n'"$pv"
done

show_ms() { # RESULT-LINE KEY
  local line=$1 key=$2 v
  [ -n "$line" ] || { echo n/a; return; }
  v=$(field "$key" "$line")
  if [ "$(field verdict "$line")" = Unknown ]; then echo ">${TIMEOUT}s"; else echo "${v:-n/a}"; fi
}
ratio() { # PORC OURS
  awk -v p="$1" -v o="$2" 'BEGIN { if (p+0 > 0 && o+0 > 0 && p !~ />/ && o !~ />/) printf "%.2f", p / o; else printf "-" }'
}
verd() { [ -n "$1" ] && field verdict "$1" || echo n/a; }

table() { # KEY TITLE
  local key=$1
  echo
  echo "$2"
  printf '%-40s %6s %5s %-8s %-8s %-8s %11s %11s %11s %11s %7s %7s\n' \
    history ops procs expected ours porc "ours fast" "ours verb" "porc fast" "porc verb" "p/o f" "p/o v"
  for row in "${rows[@]}"; do
    IFS='|' read -r label file expected <<<"$row"
    local c stats of ov pf pv
    c=${cell["$label"]}
    stats=$(sed -n 1p <<<"$c"); of=$(sed -n 2p <<<"$c"); ov=$(sed -n 3p <<<"$c")
    pf=$(sed -n 4p <<<"$c"); pv=$(sed -n 5p <<<"$c")
    local a b x y
    a=$(show_ms "$of" "$key"); b=$(show_ms "$ov" "$key")
    x=$(show_ms "$pf" "$key"); y=$(show_ms "$pv" "$key")
    printf '%-40s %6s %5s %-8s %-8s %-8s %11s %11s %11s %11s %7s %7s\n' \
      "${label:0:40}" "$(field ops "$stats")" "$(field clients "$stats")" "${expected:--}" \
      "$(verd "$of")" "$(verd "$pf")" "$a" "$b" "$x" "$y" "$(ratio "$x" "$a")" "$(ratio "$y" "$b")"
  done
}

echo
echo "# raftlab-checker vs porcupine v1.3.1 — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg | tr '\n' ' ')"
echo "# $(rustc --version); $(command -v go >/dev/null && go version || echo 'no Go')"
echo "# threads: $([ "$THREADS" = 0 ] && echo "one per core on both sides" || echo "$THREADS on both sides")"
echo "# runs: at most $RUNS, at least $MIN_RUNS, ${BUDGET}s budget per checker and mode; timeout ${TIMEOUT}s per check"
echo "# 'procs' = distinct client/process ids; ratios are porcupine / ours (> 1: ours faster); ms are medians"
table median_ms "## wall-clock milliseconds (median)"
table cpu_median_ms "## CPU milliseconds, all threads (median)"

echo
echo "## history shapes (times in event positions for Jepsen files; overlap = mean number of"
echo "## other operations of the same partition (key) whose interval meets an operation's)"
printf '%-40s %6s %5s %5s %8s %7s %5s %6s %6s %6s %6s %6s %6s %8s %8s %7s\n' \
  history ops procs parts "ops/part" max open get put append read write cas overlap duration gap
for row in "${rows[@]}"; do
  IFS='|' read -r label file expected <<<"$row"
  stats=$(sed -n 1p <<<"${cell["$label"]}")
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
  IFS='|' read -r label file expected <<<"$row"
  c=${cell["$label"]}
  vs=()
  for i in 2 3 4 5; do
    line=$(sed -n "${i}p" <<<"$c")
    [ -n "$line" ] && vs+=("$(field checker "$line")/$(field mode "$line")=$(field verdict "$line")")
  done
  decided=$(printf '%s\n' "${vs[@]+"${vs[@]}"}" "${expected:+expected=$expected}" |
    awk -F= '$NF != "" && $NF != "Unknown" && !seen[$NF]++ { n++ } END { print n + 0 }')
  if [ "$decided" -gt 1 ]; then
    found=1
    echo "  $label ($file): ${vs[*]}${expected:+ expected=$expected}"
  fi
done
[ $found = 1 ] || echo "  none (Unknown = timed out is not counted as a disagreement)"
if [ -s "$out/errors.log" ]; then
  echo
  echo "## errors (from $out/errors.log)"
  sed 's/^/  /' "$out/errors.log" | head -20
fi
for n in "${notes[@]+"${notes[@]}"}"; do echo "# note: $n"; done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
