//! Your Raft under the model checker: three servers, every interleaving of their
//! messages (lost, duplicated, reordered), timers, a crash and snapshots, up to the
//! bounds below; every state is checked against Raft's safety properties (election
//! safety, log matching, leader completeness, state machine safety, applies in
//! order, snapshots only committed, persisted state consistent). A violation prints
//! the shortest path the search found to it, one step per line.
//!
//! `cargo test --release model_check` runs the quick check; `cargo test --release
//! model_check -- --include-ignored` also the bounds of `raftlab check raft`. For other
//! bounds: `cargo run --release -- check raft --help`.

use raftlab_models::kit::model_check_raft;
use raftlab_models::raft_model::{Cmd, RaftModel};
use {{lib}}::MyRaft;

/// Terms up to 2, logs of one entry, two messages in flight, one crash, snapshots.
#[test]
fn model_check_quick() {
    model_check_raft(RaftModel::<MyRaft<Cmd>> {
        max_term: 2,
        ..RaftModel::default()
    });
}

/// The bounds of `raftlab check raft`: terms up to 3 (about a minute on two cores once
/// `MyRaft` implements `RaftCore::renumbered`, which lets the checker fold states
/// that differ only by server ids; six times that without).
#[test]
#[ignore]
fn model_check_default() {
    model_check_raft(RaftModel::<MyRaft<Cmd>>::default());
}
