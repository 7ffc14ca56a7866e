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

use raftlab_checker::generate::{self, Rng, Shape};
use raftlab_checker::models::{kv::KvModel, register::Register};
use raftlab_checker::{CheckOptions, CheckResult, Model, Operation, check};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = CURRENT.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
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
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
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
    while times.len() < 25 && (times.len() < 3 || budget.elapsed() < Duration::from_secs(2)) {
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

fn report<M: Model>(name: &str, model: &M, ops: &[Operation<M::Input, M::Output>]) {
    let crashed = ops.iter().filter(|o| o.ret.is_none()).count();
    for (mode, options) in [
        ("fast", CheckOptions::new()),
        ("verbose", CheckOptions::verbose()),
    ] {
        let m = measure(model, ops, &options);
        let steps: u64 = m.result.partitions.iter().map(|p| p.stats.steps).sum();
        let configs: u64 = m
            .result
            .partitions
            .iter()
            .map(|p| p.stats.configurations)
            .sum();
        println!(
            "{name:<44} {:>5} {:>4} {mode:<7} {:>8} {:>10.3} {:>9.2} {:>9.1} {:>10} {:>9}",
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

fn main() {
    println!(
        "{:<44} {:>5} {:>4} {:<7} {:>8} {:>10} {:>9} {:>9} {:>10} {:>9}",
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
    report(
        "kv: 1 client, 1 key, appends (lab 4)",
        &KvModel,
        &kv(1, 1000, 1, false, 1),
    );
    report(
        "kv: 10 clients, 10 keys",
        &KvModel,
        &kv(10, 1000, 10, false, 2),
    );
    report(
        "kv: 50 clients, 10 keys (porcupine ~100 ms)",
        &KvModel,
        &kv(50, 1700, 10, false, 3),
    );
    report(
        "kv: 50 clients, 10 keys, 5000 ops",
        &KvModel,
        &kv(50, 5000, 10, false, 4),
    );
    report(
        "kv: 5 clients, 1 key, lab 2 appends",
        &KvModel,
        &kv(5, 3000, 1, true, 5),
    );
    let mut bad = kv(50, 1700, 10, false, 3);
    raftlab_checker::generate::corrupt_kv_read(&mut bad, 400);
    report("kv: 50 clients, 1700 ops, one corrupt read", &KvModel, &bad);
    report(
        "register: 85 ops, ~15 crashed (porcupine ~4 ms)",
        &Register,
        &register(5, 85, 18, 6),
    );
    report(
        "register: 500 ops, 10% crashed",
        &Register,
        &register(10, 500, 10, 7),
    );
    report(
        "register: 2000 ops, 5% crashed",
        &Register,
        &register(10, 2000, 5, 8),
    );
}
