//! The suite's side of the lab's raft/config.go: the configuration itself lives in the
//! library (`raftlab::harness::raft`, shared with `raftlab sim raft`); this file picks
//! the seeds and the options, and turns a failure into a replay command.

use std::future::Future;

use raftlab::harness::bugs::{self, Carries, Requested};
use raftlab::harness::raft::suite::Spec;
use raftlab::harness::raft::{Config, Options};
use raftlab::sim::seed::run_seeded;

/// The deliberate bug `RAFTLAB_BUG=<name>` asks for (to see which bugs the suite
/// catches); a name that is no Raft bug fails the test.
fn requested_bug() -> Option<Requested> {
    bugs::requested("raft", Carries::Raft)
}

/// The options of every test: the defaults, plus the requested bug.
fn options(bug: Option<Requested>) -> Options {
    Options {
        bug: bugs::raft_bug(bug),
        ..Options::default()
    }
}

/// Runs one lab test: `make_config(servers, unreliable, snapshot)`, the body, cleanup;
/// once per seed (see `raftlab::sim::seed`).
pub fn raft_test<F, Fut>(spec: &Spec, body: F)
where
    F: Fn(Config) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    run_seeded("raft", spec.name, spec.servers, |seed| {
        let bug = requested_bug();
        let cfg = Config::new(
            seed,
            spec.servers,
            spec.unreliable,
            spec.snapshot,
            options(bug),
        );
        bugs::assert_applied(bug, &cfg.bugs(), &[]);
        cfg.run(&body);
    });
}
