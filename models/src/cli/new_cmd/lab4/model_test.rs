//! Your Raft under the model checker, alone and under raftlab's key/value service.
//!
//! - `model_check_quick`: three Raft servers, every interleaving of their messages
//!   (lost, duplicated, reordered), timers, a crash and snapshots, terms up to 2;
//! - `model_check_service`: three key/value servers on your Raft and two clerks taking turns
//!   (a Put and a Get), lossy network: the clients' history must be linearizable, and
//!   the Raft properties hold in every state;
//! - `model_check_default` (ignored; `-- --include-ignored`): the bounds of `raftlab
//!   check raft`.
//!
//! A violation prints the path to it, one step per line. Other bounds: `cargo run
//! --release -- check raft --help`, `cargo run --release -- check kv --help`.

use raftlab_models::kit::{model_check_kv, model_check_raft};
use raftlab_models::kv_model::KvModel;
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

/// The bounds of `raftlab check kv --take-turns` (about 630,000 states).
#[test]
fn model_check_service() {
    model_check_kv(KvModel::<MyRaft<raftlab::kv::Request>>::ci());
}

/// The bounds of `raftlab check raft`: terms up to 3.
#[test]
#[ignore]
fn model_check_default() {
    model_check_raft(RaftModel::<MyRaft<Cmd>>::default());
}
