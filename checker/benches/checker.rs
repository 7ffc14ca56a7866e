//! Check-time benchmark: `cargo bench -p raftlab-checker`.
//!
//! For each generated history (see `raftlab_checker::generate`) it times the check
//! only (history generation is outside the timing), in fast mode (no records, first
//! illegal partition stops) and in verbose mode (the lab tests' mode), and reports the
//! median time over several runs, the cost per operation, and the peak heap memory
//! the check allocated (measured by a counting global allocator). Porcupine's figures
//! for comparison (from issue 3): about 100 ms for a 1,700-operation, 50-client,
//! 10-key append history, and about 4 ms for an 85-operation register history with
//! 15 crashed operations.
//!
//! Two more modes serve the head-to-head with porcupine (`bench/vs-porcupine.sh`):
//!
//! - `cargo bench -p raftlab-checker -- --export DIR` writes every history above to
//!   DIR instead of timing it: key/value ones as Jepsen EDN maps (`ID.edn`),
//!   register ones as `jepsen.util` log lines (`ID.log`), each also as our JSON lines
//!   (`ID.jsonl`), and `manifest.tsv` (id, file, model, expected verdict, name).
//! - `--time FILE [--model kv|kv-lab2|map|register] [--mode fast|verbose] [--runs N]
//!   [--min-runs N] [--budget SECONDS] [--timeout SECONDS] [--threads N]
//!   [--mem-limit MIB] [--stats] [--unpruned]`
//!   reads a history file (parsing is not timed), checks it at least `--min-runs`
//!   (3) and at most `--runs` (11) times, stopping once `--budget` (2) seconds have
//!   been spent or a run timed out (`--timeout`, none by default), and prints one
//!   `RESULT key=value ...` line: verdict, median wall and CPU milliseconds, the
//!   process's peak resident memory (`peak_rss_kib`, reading the file included),
//!   and every run's figures. With `--mem-limit`, a process whose resident memory
//!   passes that many MiB stops and reports Unknown (`reason=memory`). `--stats`
//!   adds a `STATS` line on the history's shape (operations per partition, overlap,
//!   durations, gaps); `--unpruned` times the plain search
//!   (`raftlab_checker::Unpruned`). The allocation counter is off in this mode, so
//!   the check runs on the plain system allocator.
//! - `--help` prints these modes and exits.
//!
//! Exit codes: 0 done, 3 bad arguments, an unreadable `--time` file or an unwritable
//! `--export` directory. Output to a reader that went away (`| head`) is dropped.

use raftlab_checker::format::{self, ModelKind, Ops, jepsen, jsonl};
use raftlab_checker::generate::{self, Rng, Shape};
use raftlab_checker::kv::{KvInput, KvOp, KvOutput};
use raftlab_checker::models::register::{RegInput, RegOutput};
use raftlab_checker::models::{kv::KvModel, map::MapModel, register::Register};
use raftlab_checker::{CheckOptions, CheckResult, Model, Operation, Unpruned, Verdict, check};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// `println!` that ignores a closed standard output (`| head`).
macro_rules! println {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// What `--help` prints.
const HELP: &str = "\
Check-time benchmark of raftlab-checker.

Usage:
  cargo bench -p raftlab-checker                    time every generated history (a few minutes)
  cargo bench -p raftlab-checker -- --export DIR    write the histories to DIR (Jepsen EDN and logs,
                                                    JSON lines, manifest.tsv) instead of timing them
  cargo bench -p raftlab-checker -- --time FILE [--model kv|kv-lab2|register] [--mode fast|verbose]
        [--runs N] [--min-runs N] [--budget SECONDS] [--timeout SECONDS] [--threads N]
        [--stats] [--unpruned]
                                                    time the check of one history file and print
                                                    one RESULT line
  cargo bench -p raftlab-checker -- --help          this text

Exit codes: 0 done, 3 bad arguments, an unreadable --time file or an unwritable --export directory.
";

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(true);
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        let now = CURRENT.fetch_add(n, Ordering::Relaxed) + n;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

fn shrank(n: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        CURRENT.fetch_sub(n, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counters
// are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

struct Measure {
    median: Duration,
    peak: usize,
    result: CheckResult,
}

fn measure<M: Model>(
    model: &M,
    ops: &[Operation<M::Input, M::Output>],
    options: &CheckOptions,
) -> Measure {
    let mut times = Vec::new();
    let mut peak = 0;
    let mut last = None;
    let budget = Instant::now();
    // At least 3 runs (unless they take over 10 s), more within 2 s, at most 25.
    while times.len() < 25
        && ((times.len() < 3 && budget.elapsed() < Duration::from_secs(10))
            || budget.elapsed() < Duration::from_secs(2))
    {
        let base = CURRENT.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let start = Instant::now();
        let result = check(model, ops, options).expect("generated histories are well formed");
        times.push(start.elapsed());
        peak = peak.max(PEAK.load(Ordering::Relaxed).saturating_sub(base));
        last = Some(result);
    }
    times.sort();
    Measure {
        median: times[times.len() / 2],
        peak,
        result: last.expect("at least one run"),
    }
}

/// Time budget of the unpruned search, per history.
const UNPRUNED_BUDGET: Duration = Duration::from_secs(60);

fn report<M: Model + Clone>(name: &str, model: &M, ops: &[Operation<M::Input, M::Output>]) {
    for (mode, options) in [
        ("fast", CheckOptions::new()),
        ("verbose", CheckOptions::verbose()),
    ] {
        let m = measure(model, ops, &options);
        print_row(name, mode, ops, &m);
    }
    // The same fast check without the pruning hooks: the plain search.
    let options = CheckOptions::new().with_timeout(UNPRUNED_BUDGET);
    let m = measure(&Unpruned(model.clone()), ops, &options);
    print_row(name, "unpruned", ops, &m);
}

fn print_row<I, O>(name: &str, mode: &str, ops: &[Operation<I, O>], m: &Measure) {
    let crashed = ops.iter().filter(|o| o.ret.is_none()).count();
    let partitions = &m.result.partitions;
    let steps: u64 = partitions.iter().map(|p| p.stats.steps).sum();
    let configs: u64 = partitions.iter().map(|p| p.stats.configurations).sum();
    println!(
        "{name:<48} {:>5} {:>4} {mode:<8} {:>8} {:>10.3} {:>9.2} {:>9.1} {:>10} {:>9}",
        ops.len(),
        crashed,
        m.result.verdict.to_string(),
        m.median.as_secs_f64() * 1e3,
        m.median.as_secs_f64() * 1e6 / ops.len().max(1) as f64,
        m.peak as f64 / (1024.0 * 1024.0),
        steps,
        configs,
    );
}

fn kv(
    clients: usize,
    ops: usize,
    keys: u64,
    lab2: bool,
    seed: u64,
) -> Vec<Operation<raftlab_checker::kv::KvInput, raftlab_checker::kv::KvOutput>> {
    let shape = Shape {
        clients,
        ops,
        max_gap: 20,
        max_duration: 100,
        crash_percent: 0,
    };
    let mut rng = Rng::new(seed);
    generate::history(
        &KvModel,
        &shape,
        &mut rng,
        generate::kv_input(keys, 50, 10, lab2),
    )
}

fn register(
    clients: usize,
    ops: usize,
    crash_percent: u32,
    seed: u64,
) -> Vec<
    Operation<
        raftlab_checker::models::register::RegInput,
        raftlab_checker::models::register::RegOutput,
    >,
> {
    let shape = Shape {
        clients,
        ops,
        max_gap: 20,
        max_duration: 100,
        crash_percent,
    };
    let mut rng = Rng::new(seed);
    generate::history(&Register, &shape, &mut rng, generate::register_input(5))
}

/// The expected verdict of a generated history.
#[derive(Clone, Copy)]
enum Expect {
    Ok,
    Illegal,
}

/// One benchmark history.
enum History {
    Kv(Vec<Operation<KvInput, KvOutput>>),
    Register(Vec<Operation<RegInput, RegOutput>>),
}

/// The benchmark's histories: (id, name, history, expected verdict).
fn histories() -> Vec<(&'static str, &'static str, History, Expect)> {
    let mut bad = kv(50, 1700, 10, false, 3);
    generate::corrupt_kv_read(&mut bad, 400);
    let mut bad_one_key = kv(10, 2000, 1, false, 8);
    generate::corrupt_kv_read(&mut bad_one_key, 500);
    vec![
        (
            "kv-c1-k1",
            "kv: 1 client, 1 key, appends (lab 4)",
            History::Kv(kv(1, 1000, 1, false, 1)),
            Expect::Ok,
        ),
        (
            "kv-c10-k10",
            "kv: 10 clients, 10 keys",
            History::Kv(kv(10, 1000, 10, false, 2)),
            Expect::Ok,
        ),
        (
            "kv-c50-k10",
            "kv: 50 clients, 10 keys (porcupine ~100 ms)",
            History::Kv(kv(50, 1700, 10, false, 3)),
            Expect::Ok,
        ),
        (
            "kv-c50-k10-5000",
            "kv: 50 clients, 10 keys, 5000 ops",
            History::Kv(kv(50, 5000, 10, false, 4)),
            Expect::Ok,
        ),
        (
            "kv-c50-k10-s13",
            "kv: 50 clients, 10 keys, 1700 ops, seed 13",
            History::Kv(kv(50, 1700, 10, false, 13)),
            Expect::Ok,
        ),
        (
            "kv-c10-k1-2000",
            "kv: 10 clients, 1 key, 2000 ops",
            History::Kv(kv(10, 2000, 1, false, 8)),
            Expect::Ok,
        ),
        (
            "kv-c10-k1-2000-bad",
            "kv: 10 clients, 1 key, 2000 ops, one corrupt read",
            History::Kv(bad_one_key),
            Expect::Illegal,
        ),
        (
            "kv-c5-k1-lab2",
            "kv: 5 clients, 1 key, lab 2 appends",
            History::Kv(kv(5, 3000, 1, true, 5)),
            Expect::Ok,
        ),
        (
            "kv-c50-k10-bad",
            "kv: 50 clients, 1700 ops, one corrupt read",
            History::Kv(bad),
            Expect::Illegal,
        ),
        (
            "reg-85-crash",
            "register: 85 ops, ~15 crashed (porcupine ~4 ms)",
            History::Register(register(5, 85, 18, 6)),
            Expect::Ok,
        ),
        (
            "reg-500",
            "register: 500 ops, 10% crashed",
            History::Register(register(10, 500, 10, 7)),
            Expect::Ok,
        ),
        (
            "reg-2000",
            "register: 2000 ops, 5% crashed",
            History::Register(register(10, 2000, 5, 8)),
            Expect::Ok,
        ),
    ]
}

fn main() {
    // `cargo bench` passes `--bench`; other arguments choose a mode.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let result = match args.first().map(String::as_str) {
        Some("--help" | "-h") => {
            let _ = write!(std::io::stdout(), "{HELP}");
            Ok(())
        }
        Some("--export") => match args.get(1) {
            Some(dir) if args.len() == 2 => export(Path::new(dir)),
            Some(_) => Err(format!(
                "--export takes one directory, found {:?}",
                &args[1..]
            )),
            None => Err("--export needs a directory".to_string()),
        },
        Some("--time") => time_file(&args[1..]),
        None => {
            bench();
            Ok(())
        }
        Some(other) => Err(format!("unknown argument {other:?} (see --help)")),
    };
    if let Err(e) = result {
        let _ = writeln!(std::io::stderr(), "checker bench: {e}");
        std::process::exit(3);
    }
}

fn bench() {
    println!(
        "{:<48} {:>5} {:>4} {:<8} {:>8} {:>10} {:>9} {:>9} {:>10} {:>9}",
        "history",
        "ops",
        "crsh",
        "mode",
        "verdict",
        "median ms",
        "us/op",
        "peak MiB",
        "steps",
        "configs"
    );
    for (_, name, history, _) in histories() {
        match history {
            History::Kv(ops) => report(name, &KvModel, &ops),
            History::Register(ops) => report(name, &Register, &ops),
        }
    }
}

/// Writes every history to `dir` (see the module documentation).
fn export(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut manifest = String::from("id\tfile\tmodel\texpected\tname\n");
    for (id, name, history, expect) in histories() {
        let mut main = Vec::new();
        let mut json = Vec::new();
        let (file, model) = match &history {
            History::Kv(ops) => {
                jepsen::write_edn_kv(ops, &mut main).map_err(|e| e.to_string())?;
                jsonl::write_kv(ops, &mut json).map_err(|e| e.to_string())?;
                let lab2 = ops.iter().any(|o| o.input.op == KvOp::AppendOld);
                (format!("{id}.edn"), if lab2 { "kv-lab2" } else { "kv" })
            }
            History::Register(ops) => {
                jepsen::write_log_register(ops, &mut main).map_err(|e| e.to_string())?;
                for op in ops {
                    writeln!(json, "{}", jsonl::register_line(op)).map_err(|e| e.to_string())?;
                }
                (format!("{id}.log"), "register")
            }
        };
        for (path, bytes) in [
            (dir.join(&file), main),
            (dir.join(format!("{id}.jsonl")), json),
        ] {
            std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let expected = match expect {
            Expect::Ok => "Ok",
            Expect::Illegal => "Illegal",
        };
        manifest.push_str(&format!("{id}\t{file}\t{model}\t{expected}\t{name}\n"));
    }
    let path = dir.join("manifest.tsv");
    std::fs::write(&path, manifest).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote the histories and manifest.tsv to {}", dir.display());
    Ok(())
}

/// A `kB` field of `/proc/self/status` (`VmHWM`: peak resident memory, `VmRSS`:
/// resident now), in KiB; `None` where there is no such file.
fn status_kib(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Starts a thread that ends the process with an Unknown `RESULT` line
/// (`reason=memory`) once its resident memory passes `limit_kib`, so that a check
/// that would exhaust the machine reports Unknown as one that runs out of time does.
fn watch_memory(limit_kib: u64, head: String) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(50));
            if status_kib("VmRSS").is_some_and(|k| k > limit_kib) {
                println!(
                    "RESULT checker=raftlab {head} verdict=Unknown reason=memory runs=0 median_ms=na cpu_median_ms=na peak_rss_kib={} runs_ms= cpu_ms=",
                    status_kib("VmHWM").unwrap_or(0)
                );
                let _ = std::io::stdout().flush();
                std::process::exit(0);
            }
        }
    });
}

/// The process's CPU time so far (all threads), if the platform tells it.
#[cfg(target_os = "linux")]
fn cpu_time() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec (two 64-bit fields on the 64-bit
    // Linux targets this is built for) and the clock id is a valid one.
    let rc = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    (rc == 0 && cfg!(target_pointer_width = "64"))
        .then(|| Duration::new(ts.sec as u64, ts.nsec as u32))
}

#[cfg(not(target_os = "linux"))]
fn cpu_time() -> Option<Duration> {
    None
}

/// Options of `--time`.
struct TimeArgs {
    file: PathBuf,
    model: Option<ModelKind>,
    verbose: bool,
    runs: usize,
    min_runs: usize,
    budget: Duration,
    timeout: Option<Duration>,
    threads: usize,
    mem_limit_mib: Option<f64>,
    stats: bool,
    unpruned: bool,
}

fn parse_time_args(args: &[String]) -> Result<TimeArgs, String> {
    let mut it = args.iter();
    let file = it.next().ok_or("--time needs a history file")?;
    let mut t = TimeArgs {
        file: PathBuf::from(file),
        model: None,
        verbose: false,
        runs: 11,
        min_runs: 3,
        budget: Duration::from_secs(2),
        timeout: None,
        threads: 0,
        mem_limit_mib: None,
        stats: false,
        unpruned: false,
    };
    let seconds = |v: &str| -> Result<Duration, String> {
        v.parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| format!("expected seconds, found {v:?}"))
    };
    let count = |v: &str| {
        v.parse::<usize>()
            .map_err(|_| format!("expected a count, found {v:?}"))
    };
    while let Some(flag) = it.next() {
        if flag == "--stats" {
            t.stats = true;
            continue;
        }
        if flag == "--unpruned" {
            t.unpruned = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--model" => {
                t.model = Some(match value.as_str() {
                    "kv" => ModelKind::Kv,
                    "kv-lab2" => ModelKind::KvLab2,
                    "map" => ModelKind::Map,
                    "register" => ModelKind::Register,
                    m => {
                        return Err(format!(
                            "--model {m}: expected kv, kv-lab2, map or register"
                        ));
                    }
                })
            }
            "--mode" => {
                t.verbose = match value.as_str() {
                    "fast" => false,
                    "verbose" => true,
                    m => return Err(format!("--mode {m}: expected fast or verbose")),
                }
            }
            "--runs" => t.runs = count(value)?.max(1),
            "--min-runs" => t.min_runs = count(value)?,
            "--budget" => t.budget = seconds(value)?,
            "--timeout" => t.timeout = Some(seconds(value)?).filter(|d| !d.is_zero()),
            "--threads" => t.threads = count(value)?,
            "--mem-limit" => {
                t.mem_limit_mib = Some(
                    value
                        .parse::<f64>()
                        .ok()
                        .filter(|m| m.is_finite() && *m > 0.0)
                        .ok_or_else(|| format!("--mem-limit: expected MiB > 0, found {value:?}"))?,
                )
            }
            f => return Err(format!("unknown option {f}")),
        }
    }
    Ok(t)
}

/// `--time FILE ...`: see the module documentation.
fn time_file(args: &[String]) -> Result<(), String> {
    COUNTING.store(false, Ordering::Relaxed);
    let t = parse_time_args(args)?;
    let name = t.file.display().to_string();
    let text = std::fs::read_to_string(&t.file).map_err(|e| format!("{name}: {e}"))?;
    let fmt = format::detect(&text).map_err(|e| format!("{name}: {e}"))?;
    let loaded = format::load(&text, fmt, t.model).map_err(|e| format!("{name}: {e}"))?;
    let mut options = if t.verbose {
        CheckOptions::verbose()
    } else {
        CheckOptions::new()
    }
    .with_threads(t.threads);
    options.timeout = t.timeout;
    let head = format!(
        "file={name} model={} ops={} mode={} threads={}",
        loaded.model.name(),
        loaded.ops.len(),
        if t.verbose { "verbose" } else { "fast" },
        if t.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            t.threads
        },
    );
    if let Some(mib) = t.mem_limit_mib {
        watch_memory((mib * 1024.0) as u64, head.clone());
    }
    match &loaded.ops {
        Ops::Kv(ops) => {
            if t.stats {
                println!(
                    "STATS file={name} {}",
                    shape(ops, |o| o.input.key.clone(), |o| kv_kind(&o.input))
                );
            }
            match (t.unpruned, loaded.model) {
                (false, ModelKind::Map) => timed(&head, &MapModel, ops, &options, &t),
                (true, ModelKind::Map) => timed(&head, &Unpruned(MapModel), ops, &options, &t),
                (false, _) => timed(&head, &KvModel, ops, &options, &t),
                (true, _) => timed(&head, &Unpruned(KvModel), ops, &options, &t),
            }
        }
        Ops::Register(ops) => {
            if t.stats {
                println!(
                    "STATS file={name} {}",
                    shape(ops, |_| String::new(), |o| reg_kind(&o.input))
                );
            }
            if t.unpruned {
                timed(&head, &Unpruned(Register), ops, &options, &t)
            } else {
                timed(&head, &Register, ops, &options, &t)
            }
        }
        _ => Err(format!(
            "{name}: model {} histories are not timed here",
            loaded.model.name()
        )),
    }
}

fn kv_kind(i: &KvInput) -> &'static str {
    match i.op {
        KvOp::Get => "get",
        KvOp::Put => "put",
        KvOp::Append | KvOp::AppendOld => "append",
    }
}

fn reg_kind(i: &RegInput) -> &'static str {
    match i {
        RegInput::Read => "read",
        RegInput::Write(_) => "write",
        RegInput::Cas { .. } => "cas",
    }
}

/// Runs the check as `--time` says and prints the RESULT line.
fn timed<M: Model>(
    head: &str,
    model: &M,
    ops: &[Operation<M::Input, M::Output>],
    options: &CheckOptions,
    t: &TimeArgs,
) -> Result<(), String> {
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut verdicts = BTreeSet::new();
    let started = Instant::now();
    // A timed-out run (Unknown) is not repeated.
    while walls.len() < t.runs
        && (walls.len() < t.min_runs.max(1) || started.elapsed() < t.budget)
        && !verdicts.contains(&Verdict::Unknown)
    {
        let cpu0 = cpu_time();
        let wall0 = Instant::now();
        let result = check(model, ops, options).map_err(|e| e.to_string())?;
        let wall = wall0.elapsed();
        let cpu = cpu_time().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
        drop(result.partitions);
        walls.push(wall);
        cpus.push(cpu);
        verdicts.insert(result.verdict);
    }
    let verdict = match verdicts.len() {
        1 => verdicts.first().map(Verdict::to_string).unwrap_or_default(),
        _ => verdicts
            .iter()
            .map(Verdict::to_string)
            .collect::<Vec<_>>()
            .join("/"),
    };
    let ms = |d: &Duration| format!("{:.3}", d.as_secs_f64() * 1e3);
    let median = |v: &[Duration]| {
        let mut v = v.to_vec();
        v.sort();
        v[v.len() / 2]
    };
    let cpu_known: Vec<Duration> = cpus.iter().flatten().copied().collect();
    let cpu_list = |v: &[Option<Duration>]| {
        v.iter()
            .map(|c| c.as_ref().map_or("na".to_string(), ms))
            .collect::<Vec<_>>()
            .join(",")
    };
    println!(
        "RESULT checker=raftlab {head} verdict={verdict} runs={} median_ms={} cpu_median_ms={} peak_rss_kib={} runs_ms={} cpu_ms={}",
        walls.len(),
        ms(&median(&walls)),
        if cpu_known.len() == cpus.len() {
            ms(&median(&cpu_known))
        } else {
            "na".to_string()
        },
        status_kib("VmHWM").map_or(-1, |k| k as i64),
        walls.iter().map(ms).collect::<Vec<_>>().join(","),
        cpu_list(&cpus),
    );
    Ok(())
}

/// The shape of a history, as `key=value` pairs: clients (distinct ids),
/// partitions, operations per partition (mean, max), open (never returned)
/// operations, the share of each kind of operation, the mean number of other
/// operations of the same partition whose interval overlaps an operation's (open
/// operations run to the end), and the mean duration and think time (a client's gap
/// between a return and its next call), in the history's time unit (event positions
/// for Jepsen files).
fn shape<I, O>(
    ops: &[Operation<I, O>],
    partition: impl Fn(&Operation<I, O>) -> String,
    kind: impl Fn(&Operation<I, O>) -> &'static str,
) -> String {
    let n = ops.len().max(1) as f64;
    let end = ops
        .iter()
        .map(|o| o.ret.unwrap_or(o.call))
        .max()
        .unwrap_or(0)
        + 1;
    let mut parts: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut by_client: BTreeMap<u64, Vec<(i64, Option<i64>)>> = BTreeMap::new();
    for o in ops {
        parts
            .entry(partition(o))
            .or_default()
            .push((o.call, o.ret.unwrap_or(end)));
        *kinds.entry(kind(o)).or_default() += 1;
        by_client.entry(o.client).or_default().push((o.call, o.ret));
    }
    let mut overlap = 0u64;
    for iv in parts.values() {
        for (i, a) in iv.iter().enumerate() {
            overlap += iv
                .iter()
                .enumerate()
                .filter(|&(j, b)| j != i && a.0 <= b.1 && b.0 <= a.1)
                .count() as u64;
        }
    }
    let returned: Vec<i64> = ops
        .iter()
        .filter_map(|o| o.ret.map(|r| r - o.call))
        .collect();
    let mut gaps = Vec::new();
    for calls in by_client.values_mut() {
        calls.sort();
        for w in calls.windows(2) {
            if let Some(r) = w[0].1 {
                gaps.push(w[1].0 - r);
            }
        }
    }
    let mean = |v: &[i64]| v.iter().sum::<i64>() as f64 / v.len().max(1) as f64;
    let sizes: Vec<usize> = parts.values().map(Vec::len).collect();
    let mut out = format!(
        "ops={} clients={} partitions={} ops_per_partition_mean={:.1} ops_per_partition_max={} open={}",
        ops.len(),
        by_client.len(),
        parts.len(),
        n / parts.len().max(1) as f64,
        sizes.iter().max().unwrap_or(&0),
        ops.iter().filter(|o| o.ret.is_none()).count(),
    );
    for (k, c) in &kinds {
        out.push_str(&format!(" share_{k}={:.2}", *c as f64 / n));
    }
    out.push_str(&format!(
        " overlap_same_partition_mean={:.2} duration_mean={:.1} gap_mean={:.1}",
        overlap as f64 / n,
        mean(&returned),
        mean(&gaps)
    ));
    out
}
