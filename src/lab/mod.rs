//! The labs, for your own Raft: the entry points a student crate (see `raftlab new`)
//! uses to run the lab suites against any [`RaftCore`](crate::raft::RaftCore).
//!
//! - [`raft_test`] runs one Raft lab test (3A-3D) on the simulator with peers of a
//!   given core, once per seed, with the `RAFTLAB_SEED`/`RAFTLAB_SEEDS`/`RAFTLAB_BUG`
//!   switches of raftlab's own suite and the same replay note on a failure;
//!   [`lab3_suite!`](crate::lab3_suite) declares the whole suite, one `#[test]` per lab
//!   test with the lab's names, so `cargo test 3a` runs part 3A.
//! - [`kvraft::kvraft_test`] and [`lab4_suite!`](crate::lab4_suite) do the same for
//!   Lab 4: raftlab's key/value servers and clerks, each server's Raft the given core
//!   (its log commands are [`KvCmd`]).

pub mod kvraft;
mod raft;

pub use crate::harness::kv::KvCmd;
pub use raft::raft_test;
