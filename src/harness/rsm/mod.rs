//! The test configuration of a replicated service on the simulator (kvraft/config.go
//! and shardctrler/config.go): its world, its clerks and its RPCs.

pub mod clerks;
pub mod rpc;
pub mod world;
