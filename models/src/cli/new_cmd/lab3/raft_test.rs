//! The Lab 3 suite (the 28 tests of raft/test_test.go, 3A-3D) on raftlab's simulator,
//! run against your Raft: `cargo test --release 3a` runs part 3A, `cargo test
//! --release backup_3b` one test. Every test runs in virtual time from a seed; a
//! failure prints the command that replays it and the one that shows its logs.

use raftlab::harness::raft::Cmd;
use {{lib}}::MyRaft;

raftlab::lab3_suite!(MyRaft<Cmd>);
