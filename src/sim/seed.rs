//! Seeds: which seeds a simulated test runs, and how a failure tells you to replay it.
//!
//! - By default a test runs one seed derived from its name, so CI is repeatable.
//! - `RAFTLAB_SEED=n` runs seed `n` instead.
//! - `RAFTLAB_SEEDS=k` runs `k` consecutive seeds, starting from the default (or from
//!   `RAFTLAB_SEED`).
//!
//! A failing seed prints the command that replays it and the command that shows its
//! logs, one column per server.

use std::panic::{self, AssertUnwindSafe};

/// The default seed of a test: the FNV-1a hash of its name.
pub fn default_seed(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn env_u64(var: &str) -> Option<u64> {
    let raw = std::env::var(var).ok()?;
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<u64>() {
        Ok(v) => Some(v),
        Err(e) => panic!("{var}={raw:?} is not a non-negative integer: {e}"),
    }
}

/// The seeds a test named `name` runs, from `RAFTLAB_SEED` and `RAFTLAB_SEEDS`.
pub fn seeds_for(name: &str) -> Vec<u64> {
    let base = env_u64("RAFTLAB_SEED").unwrap_or_else(|| default_seed(name));
    let count = env_u64("RAFTLAB_SEEDS").unwrap_or(1).max(1);
    (0..count).map(|i| base.wrapping_add(i)).collect()
}

/// Runs `body` once per seed of the test. If a seed fails, prints the seed, the command
/// that replays it and the command that shows its logs, then fails the test.
///
/// `suite` is the test binary (`raft`, `kvraft`, ...), `test` the test's function name,
/// `columns` the number of servers (for the log viewer's columns).
pub fn run_seeded(suite: &str, test: &str, columns: usize, body: impl Fn(u64)) {
    for seed in seeds_for(test) {
        let result = panic::catch_unwind(AssertUnwindSafe(|| body(seed)));
        if let Err(e) = result {
            eprintln!("{}", failure_note(suite, test, seed, columns));
            panic::resume_unwind(e);
        }
    }
}

/// The text printed when a seed fails.
pub fn failure_note(suite: &str, test: &str, seed: u64, columns: usize) -> String {
    format!(
        "raftlab: {test} failed with seed {seed}\n  \
         replay: RAFTLAB_SEED={seed} cargo test --release --test {suite} -- --exact {test} --nocapture\n  \
         logs:   VERBOSE=1 RAFTLAB_SEED={seed} cargo test --release --test {suite} -- --exact {test} --nocapture \
         | cargo run --release -- dslogs -c {columns}"
    )
}
