//! The labs' worlds on real processes: `raftlab serve` children on loopback
//! ([`Servers`]), their peer traffic through a fault proxy per ordered pair ([`Mesh`]),
//! and what a runner reads of them ([`info`]). `raftlab torture` and the real-runtime
//! lab suites (models/tests/lab_real.rs) both build on it.

mod child;
mod control;
pub mod kv;
mod mesh;
pub mod raft;
mod runner;
mod servers;

pub use child::{Info, describe_exit, info};
pub use control::{CallError, Control};
pub use kv::{RealClerk, RealKv, run_real_kv};
pub use mesh::Mesh;
pub use raft::{RealRaft, free_addrs, run_real_raft};
pub use runner::run_real;
pub use servers::{Launch, Server, Servers};
