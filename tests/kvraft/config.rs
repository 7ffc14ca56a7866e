//! The suite's side of kvraft/config.go and test_test.go's helpers: seeds, options and
//! the test wrappers that count and record operations.

use std::future::Future;

use raftlab::harness::bugs::{self, Carries, Requested};
pub use raftlab::harness::kv::history::{check_clnt_appends, check_concurrent_appends};
pub use raftlab::harness::kv::suite::{append, check, get, put};
pub use raftlab::harness::kv::{KvraftConfig, KvraftOptions};
use raftlab::sim::seed::run_seeded;

/// The options of every test: the defaults, plus the deliberate bug
/// `RAFTLAB_BUG=<name>` asks for (a Raft bug's name, or a service bug's, such as
/// `local-reads` or `read-before-own-write`); a name that is neither fails the test.
fn options(bug: Option<Requested>) -> KvraftOptions {
    KvraftOptions {
        raft_bug: bugs::raft_bug(bug),
        service_bug: bugs::service_bug(bug),
    }
}

/// Runs one lab test (make_config(n, unreliable, maxraftstate), body, cleanup) once
/// per seed.
pub fn kvraft_test<F, Fut>(name: &str, n: usize, unreliable: bool, maxraftstate: i64, body: F)
where
    F: Fn(KvraftConfig) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    run_seeded("kvraft", name, n, |seed| {
        let bug = bugs::requested("kvraft", Carries::RaftAndService);
        let cfg = KvraftConfig::new(seed, n, unreliable, maxraftstate, options(bug));
        let (raft, service) = cfg.bugs();
        bugs::assert_applied(bug, &raft, &service);
        cfg.run(&body);
    });
}
