//! The suite's side of kvsrv/config.go and test_test.go's helpers: seeds, the memory
//! accounting, and the test wrappers that count and record operations.

use raftlab::harness::kv::ck::KvClerk;
use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use raftlab::harness::bugs::{self, Carries};
pub use raftlab::harness::kv::history::{History, check_clnt_appends, check_concurrent_appends};
pub use raftlab::harness::kv::kvsrv::{KvsrvClerk, KvsrvConfig};
use raftlab::kv::Op;
use raftlab::sim::seed::run_seeded;

/// Counts the bytes the whole test process holds: the Rust counterpart of Go's
/// `runtime.ReadMemStats(&st); st.HeapAlloc` (Rust frees at once, so there is no GC
/// to run first).
pub struct CountingAlloc;

static LIVE: AtomicI64 = AtomicI64::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        }
        p
    }
}

/// Bytes held by the process now.
pub fn heap_alloc() -> u64 {
    LIVE.load(Ordering::Relaxed).max(0) as u64
}

/// The tests of this binary run one at a time, so that a memory test measures only
/// itself (Go runs a package's tests one after another too).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs one lab test (make_config(unreliable), the body, cleanup) once per seed.
pub fn kvsrv_test<F, Fut>(name: &str, unreliable: bool, body: F)
where
    F: Fn(KvsrvConfig) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    run_seeded("kvsrv", name, 1, |seed| {
        // The Lab 2 server has no Raft and no deliberate bug: refuse to run "with" one.
        bugs::requested("kvsrv", Carries::Nothing);
        let cfg = KvsrvConfig::new(seed, unreliable);
        cfg.run(&body);
    });
}

/// The test's `Get` wrapper: counts the operation and records it in `log`.
pub async fn get(
    cfg: &KvsrvConfig,
    ck: &KvsrvClerk,
    key: &str,
    log: Option<&History>,
    cli: usize,
) -> String {
    let v = ck.recorded(Op::Get { key: key.into() }, log, cli).await;
    cfg.op();
    v
}

/// The test's `Put` wrapper.
pub async fn put(
    cfg: &KvsrvConfig,
    ck: &KvsrvClerk,
    key: &str,
    value: &str,
    log: Option<&History>,
    cli: usize,
) {
    let op = Op::Put {
        key: key.into(),
        value: value.into(),
    };
    ck.recorded(op, log, cli).await;
    cfg.op();
}

/// The test's `Append` wrapper: Lab 2's append returns the old value (recorded as
/// porcupine's op 3, "append with return value").
pub async fn append(
    cfg: &KvsrvConfig,
    ck: &KvsrvClerk,
    key: &str,
    value: &str,
    log: Option<&History>,
    cli: usize,
) -> String {
    let op = Op::AppendReturningOld {
        key: key.into(),
        value: value.into(),
    };
    let old = ck.recorded(op, log, cli).await;
    cfg.op();
    old
}
