//! Key/value services as pure cores: the Lab 2 server ([`kvsrv::KvSrv`]), the Lab 4
//! server on Raft ([`server::KvServer`]), the clerk both use ([`clerk::Clerk`]) and the
//! state machine they share ([`store::KvStore`]).
//!
//! A clerk numbers its requests: `(client, seq)` identifies a request across every
//! retry, and the store executes each `(client, seq)` at most once. A store keeps, per
//! client, only the highest `seq` it executed and (for the Lab 2 append, which returns
//! the old value) the one reply a retry of that request may need.

pub mod clerk;
pub mod kvsrv;
pub mod server;
pub mod store;

use serde::{Deserialize, Serialize};

/// A clerk's identity (drawn at random by the driver, like the lab's `nrand()`).
pub type ClientId = u64;

/// An operation on the key/value map.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Op {
    /// Read a key ("" if absent).
    Get {
        /// The key.
        key: String,
    },
    /// Replace a key's value.
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Append to a key's value (Lab 4: no result).
    Append {
        /// The key.
        key: String,
        /// What to append.
        value: String,
    },
    /// Append to a key's value and return the value before the append (Lab 2).
    AppendReturningOld {
        /// The key.
        key: String,
        /// What to append.
        value: String,
    },
}

impl Op {
    /// The key the operation touches.
    pub fn key(&self) -> &str {
        match self {
            Op::Get { key }
            | Op::Put { key, .. }
            | Op::Append { key, .. }
            | Op::AppendReturningOld { key, .. } => key,
        }
    }

    /// Whether the operation changes the map (and so needs duplicate detection).
    pub fn is_write(&self) -> bool {
        !matches!(self, Op::Get { .. })
    }
}

/// A clerk's request: the operation and its identity across retries.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Request {
    /// The clerk.
    pub client: ClientId,
    /// The clerk's request number (1, 2, ...), the same on every retry.
    pub seq: u64,
    /// The operation.
    pub op: Op,
}

/// A server's answer to a clerk.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reply {
    /// Done; the value read (Get), the old value (Lab 2 append) or "" (Put, Append).
    Ok(String),
    /// This server is not the leader (or lost leadership before the request
    /// committed): try another.
    WrongLeader,
    /// This group does not serve the key's shard (Lab 5).
    WrongGroup,
}
