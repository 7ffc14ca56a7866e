//! The suite's side of kvraft/config.go and test_test.go's helpers: seeds, options and
//! the test wrappers that count and record operations.

use raftlab::harness::kv::ck::KvClerk;
use std::future::Future;

pub use raftlab::harness::kv::history::{History, check_clnt_appends, check_concurrent_appends};
pub use raftlab::harness::kv::{KvraftClerk, KvraftConfig, KvraftOptions};
use raftlab::kv::Op;
use raftlab::raft::Bug;
use raftlab::rsm::server::ServiceBug;
use raftlab::sim::seed::run_seeded;

/// The options of every test: the defaults, plus a deliberate bug when
/// `RAFTLAB_BUG=<name>` asks for one (a Raft bug's name, or a service bug's:
/// `local-reads`, `read-before-own-write`).
fn options() -> KvraftOptions {
    let mut o = KvraftOptions::default();
    if let Ok(name) = std::env::var("RAFTLAB_BUG")
        && !name.is_empty()
    {
        if let Some(b) = ServiceBug::from_name(&name) {
            o.service_bug = Some(b);
        } else if let Some(b) = Bug::from_name(&name) {
            o.raft_bug = Some(b);
        } else {
            panic!("RAFTLAB_BUG={name:?} names no bug");
        }
    }
    o
}

/// Runs one lab test (make_config(n, unreliable, maxraftstate), body, cleanup) once
/// per seed.
pub fn kvraft_test<F, Fut>(name: &str, n: usize, unreliable: bool, maxraftstate: i64, body: F)
where
    F: Fn(KvraftConfig) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    run_seeded("kvraft", name, n, |seed| {
        let cfg = KvraftConfig::new(seed, n, unreliable, maxraftstate, options());
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
