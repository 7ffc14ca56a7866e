//! The suite's side of the lab's raft/config.go: the configuration itself lives in the
//! library (`raftlab::harness::raft`, shared with `raftlab sim raft`); this file picks
//! the seeds and the options, and turns a failure into a replay command.

use std::future::Future;

pub use raftlab::harness::raft::{Cmd, Config, ELECTION_TIMEOUT, Options};
use raftlab::raft::Bug;
use raftlab::sim::seed::run_seeded;

/// The options of every test: the defaults, plus a deliberate bug when
/// `RAFTLAB_BUG=<name>` asks for one (to see which bugs the suite catches).
fn options() -> Options {
    let mut o = Options::default();
    if let Ok(name) = std::env::var("RAFTLAB_BUG")
        && !name.is_empty()
    {
        match Bug::from_name(&name) {
            Some(b) => o.bug = Some(b),
            None => panic!(
                "RAFTLAB_BUG={name:?} names no bug; known: {}",
                Bug::ALL.map(|b| b.name()).join(", ")
            ),
        }
    }
    o
}

/// Runs one lab test: `make_config(servers, unreliable, snapshot)`, the body, cleanup;
/// once per seed (see `raftlab::sim::seed`).
pub fn raft_test<F, Fut>(name: &str, servers: usize, unreliable: bool, snapshot: bool, body: F)
where
    F: Fn(Config) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    run_seeded("raft", name, servers, |seed| {
        let cfg = Config::new(seed, servers, unreliable, snapshot, options());
        cfg.run(&body);
    });
}
