//! The Raft lab's harness (raft/config.go) on the simulator: the world of peers and
//! appliers, and the configuration handle that test code drives.

mod chaos;
mod config;
mod lab;
pub mod suite;
mod world;

pub use chaos::{ChaosCounts, ChaosOptions, ChaosReport, ChaosRun, Progress};
pub use config::{Config, Options, TEST_LIMIT};
pub use lab::{ELECTION_TIMEOUT, RaftLab, Summary, TermMoved};
pub use world::{Applier, Cmd, RaftRpc, RaftWorld, SNAPSHOT_INTERVAL, Stats, describe_rpc};
