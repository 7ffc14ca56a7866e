//! Replicated services on Raft, generically: the clerk ([`clerk::Clerk`]) and the server
//! ([`server::Server`]) that the Lab 4 key/value service and the Lab 5 shard controller
//! share, over a [`StateMachine`].
//!
//! A clerk numbers its requests: `(client, seq)` identifies a request across every
//! retry, and a state machine executes each write `(client, seq)` at most once.

pub mod clerk;
pub mod server;

use std::fmt::Debug;
use std::hash::Hash;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::codec::DecodeError;

/// A clerk's identity (drawn at random by the driver, like the lab's `nrand()`).
pub type ClientId = u64;

/// A clerk's request: an operation and its identity across retries.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Request<O> {
    /// The clerk.
    pub client: ClientId,
    /// The clerk's request number (1, 2, ...), the same on every retry.
    pub seq: u64,
    /// The operation.
    pub op: O,
}

/// A server's answer to a clerk.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Reply<R> {
    /// Done, with the operation's result.
    Ok(R),
    /// This server is not the leader (or lost leadership before the request
    /// committed): try another.
    WrongLeader,
    /// This group does not serve the key's shard (Lab 5).
    WrongGroup,
}

/// A deterministic state machine driven by clerks' requests through a Raft log.
pub trait StateMachine: Clone + Debug + Default + Eq + Hash {
    /// The operations clerks request.
    type Op: Clone + Debug + Eq + Hash + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// What an operation returns.
    type Output: Clone + Debug + Eq + Hash + Serialize + DeserializeOwned;

    /// Executes a request (at most once per `(client, seq)` for writes) and returns its
    /// result.
    fn apply(&mut self, request: Request<Self::Op>) -> Self::Output;

    /// The result of a read-only operation from the current state, without changing
    /// anything (`None` for writes). Only the deliberate service bugs use it
    /// (`ServiceBug::LocalReads`, `ServiceBug::ReadBeforeOwnWrite`).
    fn read(&self, op: &Self::Op) -> Option<Self::Output>;

    /// The snapshot of the whole state (including the duplicate table).
    fn encode(&self) -> Vec<u8>;

    /// Restores a snapshot made by [`StateMachine::encode`].
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError>;
}
