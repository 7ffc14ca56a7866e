//! What travels on the networks of replicated services, and who is calling.

use serde::{Deserialize, Serialize};

use crate::raft;
use crate::rsm::{Reply, Request};

/// The RPCs of a replicated service whose operations are `O` and results `R`: the
/// "Raft" service between servers, and the service's own ("KVServer", "ShardCtrler")
/// between clerks and servers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RsmRpc<O, R> {
    /// A Raft request between servers.
    Raft(raft::Request<Request<O>>),
    /// A Raft reply.
    RaftReply(raft::Reply),
    /// A clerk's request.
    Clerk(Request<O>),
    /// A server's answer to a clerk.
    ClerkReply(Reply<R>),
}

/// The key/value labs' RPCs.
pub type KvRpc = RsmRpc<crate::kv::Op, String>;

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
