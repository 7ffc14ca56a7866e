//! How a lab test runs on real processes: once per seed of the test (the seeds of
//! `RAFTLAB_SEED`/`RAFTLAB_SEEDS`, as on the simulator; on real processes a seed fixes
//! the test's own choices and the servers' timers, not the timing of the real world),
//! each run in a directory of its own under `RAFTLAB_REAL_DIR` (default: the system's
//! temporary directory), removed when the test passes and kept, with every server's
//! data directory and log, when it fails. The test body runs on a current-thread
//! tokio runtime (its tasks are local: the worlds are `Rc` handles, as the
//! simulator's are); the proxies run on a runtime of their own, so that they keep
//! forwarding while the body blocks for a moment (starting or killing a process).

use std::future::Future;
use std::path::{Path, PathBuf};

/// Runs `body` on a world made by `make(seed, dir, proxies)` for each seed of test
/// `name`, then `cleanup` (which must stop every server), pass or fail.
pub fn run_real<W, F, Fut>(
    name: &str,
    make: impl Fn(u64, &Path, &tokio::runtime::Runtime) -> std::io::Result<W>,
    cleanup: impl Fn(&W),
    body: F,
) where
    W: Clone,
    F: Fn(W) -> Fut,
    Fut: Future<Output = ()>,
{
    for seed in crate::sim::seed::seeds_for(name) {
        let dir = run_dir(name, seed);
        let proxies = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("raftlab-lab-proxy")
            .enable_all()
            .build()
            .expect("a tokio runtime for the proxies");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for the test");
        let local = tokio::task::LocalSet::new();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // The world is made outside the test's runtime (binding the proxies blocks
            // on theirs) but inside its local set (the world may start local tasks).
            let world = {
                let _rt = rt.enter();
                let _local = local.enter();
                match make(seed, &dir, &proxies) {
                    Ok(w) => w,
                    Err(e) => panic!("cannot set up the servers in {}: {e}", dir.display()),
                }
            };
            let r = local.block_on(
                &rt,
                catch(std::panic::AssertUnwindSafe(body(world.clone()))),
            );
            cleanup(&world);
            r
        }))
        .and_then(|r| r);
        drop(local);
        drop(rt);
        drop(proxies);
        match result {
            Ok(()) => {
                let _ = std::fs::remove_dir_all(&dir);
            }
            Err(e) => {
                eprintln!(
                    "raftlab: {name} failed on real processes with seed {seed}\n  \
                     again:  RAFTLAB_SEED={seed} cargo test --release -p raftlab-models --test lab_real -- --include-ignored --exact {name} --nocapture\n  \
                     kept:   {} (each server's data directory s<i>/ and log s<i>.log)",
                    dir.display()
                );
                std::panic::resume_unwind(e);
            }
        }
    }
}

/// A fresh run directory for a test and seed.
fn run_dir(test: &str, seed: u64) -> PathBuf {
    let base = std::env::var_os("RAFTLAB_REAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    base.join(format!(
        "raftlab-{test}-{seed}-{}-{nanos}",
        std::process::id()
    ))
}

/// Awaits `fut`, turning a panic inside it into an `Err` (so that the servers are
/// stopped before the panic goes on).
async fn catch<F: Future>(fut: std::panic::AssertUnwindSafe<F>) -> std::thread::Result<F::Output> {
    let mut fut = std::pin::pin!(fut.0);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Err(e) => std::task::Poll::Ready(Err(e)),
        }
    })
    .await
}
