//! The Lab 5 test configurations on the simulator: the shard controller's
//! (shardctrler/config.go: the replicated-service configuration over
//! [`crate::shard::ctrler::Configs`]) and the sharded key/value service's
//! (shardkv/config.go).

pub mod ctrler;

use crate::harness::rsm::world::{RsmClerk, RsmConfig};
use crate::shard::ctrler::Configs;

/// The shard controller's test configuration.
pub type CtrlerConfig = RsmConfig<Configs>;

/// A shard controller clerk handle.
pub type CtrlerCk = RsmClerk<Configs>;

pub mod chaos;
pub mod config;
pub mod world;

pub use config::{ShardCk, ShardKvConfig};
