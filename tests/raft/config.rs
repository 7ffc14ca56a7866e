//! The suite's side of the lab's raft/config.go: the configuration itself lives in the
//! library (`raftlab::harness::raft`, shared with `raftlab sim raft`), and so does the
//! runner (`raftlab::lab::raft_test`, which picks the seeds and the options and turns a
//! failure into a replay command); this suite runs it with raftlab's own Raft.

use std::future::Future;

use raftlab::harness::raft::suite::Spec;
use raftlab::harness::raft::{Cmd, Config};
use raftlab::raft::Raft;

/// Runs one lab test on raftlab's Raft, once per seed.
pub fn raft_test<F, Fut>(spec: &Spec, body: F)
where
    F: Fn(Config) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    raftlab::lab::raft_test::<Raft<Cmd>, F, Fut>(spec, body);
}
