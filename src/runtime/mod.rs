//! The real driver: the same cores as the simulator and the models, as server processes
//! over TCP with durable storage, serving Redis clients.
//!
//! ```text
//!  Redis clients ──RESP──▶ client.rs ─┐                      ┌─▶ transport.rs ──TCP──▶ peers
//!  peers ──TCP frames──▶ transport.rs ─┤   Event             │   (Effect::Peer)
//!  writer thread (Durable) ────────────┼──────▶ node.rs ─────┤
//!  wall-clock timers ──────────────────┘   Server<S> (core)  └─▶ client.rs (Effect::Respond)
//!                                              │ Persist
//!                                              ▼
//!                                  commit::Queue ──▶ writer thread ──▶ storage (WAL, fsync)
//! ```
//!
//! One event loop ([`node::Node`]) owns the core value, a [`crate::rsm::server::Server`]
//! over any [`service::Service`]: the key/value store (`raftlab serve --service kv`,
//! the default) or the Raft lab's log ([`lab_log::LabLog`], `--service raft-log`, whose
//! commands start entries on a chosen server's Raft and read what each server applied,
//! as the lab 3 tests do). Every input becomes an
//! [`node::Event`]; the loop calls the core and carries out its outputs in order. The rule
//! that makes it correct is the core's own: a `Persist` comes before every output that
//! depends on it, and the loop lets nothing leave the process (a message to a peer, an
//! answer to a client) until every `Persist` submitted before it is on disk
//! ([`commit`]). The writer thread batches all the records submitted while it was busy
//! into one `fdatasync` (group commit), so throughput is not one fsync per command.
//!
//! - [`storage`]: the data directory: a checksummed write-ahead log of persist records,
//!   the snapshot replaced atomically, recovery that drops a torn tail and refuses
//!   corruption, naming file and byte offset.
//! - [`wire`] and [`transport`]: length-prefixed, checksummed frames in raftlab's codec,
//!   the handshake (cluster id, server id, protocol version), reconnects with backoff.
//! - [`resp`] and [`client`]: the Redis protocol (RESP2), so redis-cli, redis-benchmark
//!   and every Redis library are clients. Each connection is a clerk session running the
//!   lab's clerk ([`crate::rsm::clerk::Clerk`]) against the cluster, so a retried
//!   command is applied once, and a follower forwards to the leader. `SESSION` reads a
//!   connection's session (client id, next request number) or resumes one on a new
//!   connection, so a client whose connection broke mid-operation retries it exactly
//!   once.
//! - [`service`]: what a Redis command means to a state machine (an operation for the
//!   clerk, or a local command of the server's own core), and the key/value commands;
//!   [`lab_log`]: the Raft lab's service.
//! - [`timers`]: wall-clock deadlines drawn from the ranges the cores name.
//! - [`serve`](mod@serve): one server process from its configuration to a clean stop.
//! - [`proxy`]: not part of a server: the fault-injecting TCP proxy that
//!   `raftlab torture` puts between servers (cut, refuse, drop, delay per direction).
//!
//! The cores never learn that this driver exists: it is a third driver beside the
//! simulator (`crate::sim`, `crate::harness`) and the models (`raftlab-models`).

pub mod client;
pub mod commit;
pub mod lab_log;
pub mod node;
pub mod proxy;
pub mod resp;
pub mod serve;
pub mod service;
pub mod storage;
pub mod timers;
pub mod transport;
pub mod wire;

#[cfg(all(test, not(raftlab_loom)))]
mod release_tests;

pub use serve::{Bug, ServeConfig, ServeError, cluster_id, serve};
pub use storage::Fsync;
