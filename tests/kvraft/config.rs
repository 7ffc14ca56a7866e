//! The suite's side of kvraft/config.go and test_test.go's helpers: seeds, options and
//! the test wrappers that count and record operations.

use raftlab::harness::kv::ck::KvClerk;
use std::future::Future;

use raftlab::harness::bugs::{self, Carries, Requested};
pub use raftlab::harness::kv::history::{History, check_clnt_appends, check_concurrent_appends};
pub use raftlab::harness::kv::{KvraftClerk, KvraftConfig, KvraftOptions};
use raftlab::kv::Op;
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

/// The test's `Get` wrapper: counts the operation and records it in `log`.
pub async fn get(
    cfg: &KvraftConfig,
    ck: &KvraftClerk,
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
    cfg: &KvraftConfig,
    ck: &KvraftClerk,
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

/// The test's `Append` wrapper (Lab 4's append returns nothing: porcupine's op 2).
pub async fn append(
    cfg: &KvraftConfig,
    ck: &KvraftClerk,
    key: &str,
    value: &str,
    log: Option<&History>,
    cli: usize,
) {
    let op = Op::Append {
        key: key.into(),
        value: value.into(),
    };
    ck.recorded(op, log, cli).await;
    cfg.op();
}

/// The test's `check`: a Get (counted, not recorded) must return `value`.
pub async fn check(cfg: &KvraftConfig, ck: &KvraftClerk, key: &str, value: &str) {
    let v = get(cfg, ck, key, None, 0).await;
    if v != value {
        panic!("Get({key}): expected:\n{value}\nreceived:\n{v}");
    }
}
