//! The Lab 3 (Raft) suite on the simulator: the 28 tests of raft/test_test.go, scenario
//! by scenario, with the lab's names (snake_case, part as suffix) and printed lines.
//! The bodies are `raftlab::harness::raft::suite`'s, written once for every driver, and
//! the runner is `raftlab::lab::raft_test` (the one a student crate runs on its own
//! Raft); this file runs all of them on raftlab's Raft, in virtual time.
//!
//! `cargo test --release --test raft 3b` runs part 3B. Every test runs in virtual time
//! from a seed (see README: replaying a seed).

mod bug_switch;

use raftlab::harness::raft::Cmd;
use raftlab::raft::Raft;

raftlab::lab3_suite!(Raft<Cmd>);
