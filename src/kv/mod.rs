//! Key/value services as pure cores: the Lab 2 server ([`kvsrv::KvSrv`]), the Lab 4
//! server on Raft ([`KvServer`]), the clerk both use ([`Clerk`]) and the state machine
//! they share ([`store::KvStore`]).
//!
//! A clerk numbers its requests: `(client, seq)` identifies a request across every
//! retry, and the store executes each `(client, seq)` at most once. A store keeps, per
//! client, only the highest `seq` it executed and (for the Lab 2 append, which returns
//! the old value) the one reply a retry of that request may need.

pub mod kvsrv;
pub mod store;

use serde::{Deserialize, Serialize};

pub use crate::rsm::ClientId;

/// A key/value clerk's request.
pub type Request = crate::rsm::Request<Op>;

/// A key/value server's answer: the value read (Get), the old value (Lab 2 append) or
/// "" (Put, Append).
pub type Reply = crate::rsm::Reply<String>;

/// The key/value clerk.
pub type Clerk = crate::rsm::clerk::Clerk<Op, String>;

/// The Lab 4 key/value server: the replicated server over a [`store::KvStore`].
pub type KvServer = crate::rsm::server::Server<store::KvStore>;

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
    /// Append to a key's value and return its new length in bytes, in decimal (the
    /// Redis `APPEND` of the real runtime).
    AppendReturningLen {
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
            | Op::AppendReturningOld { key, .. }
            | Op::AppendReturningLen { key, .. } => key,
        }
    }

    /// Whether the operation changes the map (and so needs duplicate detection).
    pub fn is_write(&self) -> bool {
        !matches!(self, Op::Get { .. })
    }
}
