//! raftlab-models: stateright models over the same pure cores that the simulator and
//! the lab suite drive. No protocol is written twice: every transition of a model calls
//! the core's own methods.
//!
//! - [`cluster`]: a generic cluster of protocol nodes as a stateright `Model`: messages
//!   in flight as a multiset (delivered in any order, dropped, duplicated), timers the
//!   model fires at will, crashes that keep only the durable state, restarts from it,
//!   and local inputs. A protocol plugs in through the [`cluster::Node`] and
//!   [`cluster::Protocol`] traits.
//! - [`network`]: the in-flight multiset.
//! - [`symmetry`]: symmetry reduction over server ids (for the DFS checker).
//! - [`raft_model`]: the Raft model over `raftlab::raft::Raft`, with its ghost history.
//! - [`properties`]: the Raft properties (Figure 3, snapshots, applies, persistence),
//!   for any protocol whose nodes host a Raft core.
//! - [`kv_model`]: the Lab 4 key/value model over `raftlab::rsm::server::Server` and the
//!   pure clerk, with stateright's linearizability tester over the client history.
//! - [`properties`]: the Raft properties (Figure 3, snapshots, applies, persistence).
//! - [`shard_model`]: the shard-migration model over `raftlab::shard::group::GroupServer`
//!   (two groups, a scripted controller, clerks), with its ghost history.
//! - [`shard_properties`]: its properties (one owner per shard and configuration,
//!   acknowledged writes kept, writes applied once, linearizable client history).
//! - [`trace`]: counterexamples as readable numbered traces.
//! - [`runner`]: running a check with progress, and its table of results.

pub mod cli;
pub mod cluster;
pub mod kit;
pub mod kv_model;
pub mod network;
pub mod properties;
pub mod raft_model;
pub mod runner;
pub mod shard_model;
pub mod shard_properties;
pub mod symmetry;
pub mod trace;

/// A server's id in a cluster model: its position, `0..servers`.
pub type NodeId = usize;
