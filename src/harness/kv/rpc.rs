//! What travels on the key/value labs' networks, and who is calling.

use serde::{Deserialize, Serialize};

use crate::kv;
use crate::raft;

/// The key/value labs' RPCs: the "Raft" service between servers, and the "KVServer"
/// service between clerks and servers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvRpc {
    /// A Raft request between servers.
    Raft(raft::Request<kv::Request>),
    /// A Raft reply.
    RaftReply(raft::Reply),
    /// A clerk's request.
    Clerk(kv::Request),
    /// A server's answer to a clerk.
    ClerkReply(kv::Reply),
}

/// A server object: a server and its incarnation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerToken {
    /// The server's index.
    pub node: usize,
    /// Its incarnation.
    pub incarnation: u64,
}

/// Who made a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A server's Raft node, calling a peer.
    Server {
        /// The server.
        node: usize,
        /// Its incarnation.
        incarnation: u64,
        /// The peer called.
        peer: usize,
    },
    /// A clerk.
    Clerk {
        /// The clerk's slot.
        clerk: usize,
        /// The clerk's attempt number.
        attempt: u64,
    },
}
