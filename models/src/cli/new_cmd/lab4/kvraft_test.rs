//! The Lab 4 suite (the 23 tests of kvraft/test_test.go, 4A and 4B) on raftlab's
//! simulator: raftlab's key/value servers and clerks (`raftlab::rsm`), each server's
//! Raft yours. Every history the lab checks with porcupine is checked for
//! linearizability. `cargo test --release 4a` runs part 4A.

use raftlab::lab::KvCmd;
use {{lib}}::MyRaft;

raftlab::lab4_suite!(MyRaft<KvCmd>);
