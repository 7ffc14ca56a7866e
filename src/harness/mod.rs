//! The labs' test configurations (their config.go files), on the simulator. They live
//! in the library, not in tests/, because `raftlab sim` drives the same harness and its
//! checks as the lab suite does.

pub mod bugs;
pub mod drive;
pub mod kv;
pub mod raft;
pub mod real;
pub mod rsm;
pub mod safety;
pub mod shard;
pub mod subtests;
