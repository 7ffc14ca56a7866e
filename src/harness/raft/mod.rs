//! The Raft lab's harness (raft/config.go) on the simulator: the world of peers and
//! appliers, and the configuration handle that test code drives.

mod chaos;
mod config;
mod world;

pub use chaos::{ChaosCounts, ChaosOptions, ChaosReport, ChaosRun, Progress};
pub use config::{Config, ELECTION_TIMEOUT, Options, Summary, TEST_LIMIT, TermMoved};
pub use world::{Applier, Cmd, RaftRpc, RaftWorld, SNAPSHOT_INTERVAL, Stats, describe_rpc};
