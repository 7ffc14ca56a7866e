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

/// The text printed when a seed fails. A deliberate bug asked for with `RAFTLAB_BUG`
/// is part of the run, so the commands repeat it.
pub fn failure_note(suite: &str, test: &str, seed: u64, columns: usize) -> String {
    let bug = std::env::var("RAFTLAB_BUG").unwrap_or_default();
    note_for(suite, test, seed, columns, bug.trim())
}

fn note_for(suite: &str, test: &str, seed: u64, columns: usize, bug: &str) -> String {
    let env = if bug.is_empty() {
        format!("RAFTLAB_SEED={seed}")
    } else {
        format!("RAFTLAB_BUG={bug} RAFTLAB_SEED={seed}")
    };
    format!(
        "raftlab: {test} failed with seed {seed}\n  \
         replay: {env} cargo test --release --test {suite} -- --exact {test} --nocapture\n  \
         logs:   VERBOSE=1 {env} cargo test --release --test {suite} -- --exact {test} --nocapture \
         | cargo run --release -- dslogs -c {columns}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_the_seed_the_replay_and_the_log_viewer() {
        assert_eq!(
            note_for("raft", "figure8_3c", 1234, 5, ""),
            "raftlab: figure8_3c failed with seed 1234\n  \
             replay: RAFTLAB_SEED=1234 cargo test --release --test raft -- --exact figure8_3c --nocapture\n  \
             logs:   VERBOSE=1 RAFTLAB_SEED=1234 cargo test --release --test raft -- --exact figure8_3c \
             --nocapture | cargo run --release -- dslogs -c 5"
        );
        let with_bug = note_for("raft", "backup_3b", 7, 3, "vote-twice");
        assert!(with_bug.contains(
            "replay: RAFTLAB_BUG=vote-twice RAFTLAB_SEED=7 cargo test --release --test raft"
        ));
        assert!(with_bug.contains("logs:   VERBOSE=1 RAFTLAB_BUG=vote-twice RAFTLAB_SEED=7 "));
        assert!(with_bug.ends_with("| cargo run --release -- dslogs -c 3"));
    }
}
