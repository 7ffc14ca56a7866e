//! The suite's side of kvraft/config.go: the configuration lives in the library
//! (`raftlab::harness::kv`), and so do the runner and the tests' bodies
//! (`raftlab::lab::kvraft`); this suite runs them with raftlab's own Raft.

pub use raftlab::harness::kv::{KvraftConfig, KvraftOptions};
