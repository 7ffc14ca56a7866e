//! raftlab: the MIT 6.5840 systems as pure state-transition functions.
//!
//! - [`raft`]: Raft as a pure core.
//! - [`sim`]: the deterministic simulator that drives the cores like the lab's labrpc.
//! - [`harness`]: the lab's test configurations (config.go), on the simulator.
//! - [`codec`]: the one binary codec of messages and persistent state.
//! - [`dslogs`]: the log viewer behind `raftlab dslogs` (one column per server).

pub mod codec;
pub mod dslogs;
pub mod harness;
pub mod kv;
pub mod lab;
pub mod raft;
pub mod rsm;
pub mod runtime;
pub mod shard;
pub mod sim;
