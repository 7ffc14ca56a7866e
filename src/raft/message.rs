//! The RPCs that Raft nodes exchange: requests, and the replies that answer them.
//!
//! Replies carry everything their receiver needs (the term they were produced in, the
//! index a follower now matches), so that a node never has to remember which request a
//! reply answers: a duplicated, reordered or stale reply is recognized from its own
//! contents. A reply whose `term` differs from the receiver's current term is stale (or
//! announces a newer term).

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::log::Entry;
use super::{Index, NodeId, Term};

/// A request from one node to another.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Request<C> {
    /// A candidate asks for a vote.
    RequestVote(RequestVote),
    /// A leader replicates entries (none for a heartbeat) and its commit index.
    AppendEntries(AppendEntries<C>),
    /// A leader sends its snapshot to a follower that is behind its compacted prefix.
    InstallSnapshot(InstallSnapshot),
}

/// A reply to a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Reply {
    /// Answers [`Request::RequestVote`].
    RequestVote(VoteReply),
    /// Answers [`Request::AppendEntries`].
    AppendEntries(AppendReply),
    /// Answers [`Request::InstallSnapshot`].
    InstallSnapshot(SnapshotReply),
}

/// RequestVote arguments (Figure 2).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RequestVote {
    /// The candidate's term.
    pub term: Term,
    /// The candidate.
    pub candidate: NodeId,
    /// The index of the candidate's last log entry.
    pub last_log_index: Index,
    /// The term of the candidate's last log entry.
    pub last_log_term: Term,
}

/// The answer to a RequestVote.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VoteReply {
    /// The voter's current term (equal to the request's term when granted).
    pub term: Term,
    /// Whether the vote was granted.
    pub granted: bool,
}

/// AppendEntries arguments (Figure 2).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AppendEntries<C> {
    /// The leader's term.
    pub term: Term,
    /// The leader, so that followers know where clients should go.
    pub leader: NodeId,
    /// The index of the entry just before `entries`.
    pub prev_log_index: Index,
    /// The term of that entry.
    pub prev_log_term: Term,
    /// The entries to store (empty for a heartbeat).
    pub entries: Vec<Entry<C>>,
    /// The leader's commit index.
    pub leader_commit: Index,
}

/// What a follower did with an AppendEntries.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AppendOutcome {
    /// The request's term was older than the follower's: nothing was done.
    Stale,
    /// The follower's log now matches the leader's through `match_index`.
    Success {
        /// `prev_log_index + entries.len()` of the request.
        match_index: Index,
    },
    /// The follower's log does not contain `prev_log_index` with `prev_log_term`. The
    /// leader backs up a whole term at a time (the "fast backup" of the lab):
    Mismatch {
        /// The term of the follower's entry at `prev_log_index`, or `None` if the
        /// follower's log is shorter than that.
        conflict_term: Option<Term>,
        /// With a `conflict_term`: the first index the follower holds with that term.
        /// Without one: the follower's last index + 1.
        first_index: Index,
    },
}

/// The answer to an AppendEntries.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AppendReply {
    /// The follower's current term.
    pub term: Term,
    /// What the follower did.
    pub outcome: AppendOutcome,
}

/// InstallSnapshot arguments (Figure 13, sent whole rather than in chunks).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InstallSnapshot {
    /// The leader's term.
    pub term: Term,
    /// The leader.
    pub leader: NodeId,
    /// The last index the snapshot covers.
    pub last_included_index: Index,
    /// The term of that entry.
    pub last_included_term: Term,
    /// The service's snapshot, opaque to Raft.
    pub data: Arc<[u8]>,
}

/// The answer to an InstallSnapshot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SnapshotReply {
    /// The follower's current term.
    pub term: Term,
    /// `None` when the request's term was stale; otherwise the index through which the
    /// follower's state now matches the leader's (the snapshot's last included index).
    pub match_index: Option<Index>,
}

impl<C> Request<C> {
    /// The sender's term.
    pub fn term(&self) -> Term {
        match self {
            Request::RequestVote(a) => a.term,
            Request::AppendEntries(a) => a.term,
            Request::InstallSnapshot(a) => a.term,
        }
    }

    /// The RPC's name as the lab calls it ("Raft.RequestVote", ...).
    pub fn method(&self) -> &'static str {
        match self {
            Request::RequestVote(_) => "Raft.RequestVote",
            Request::AppendEntries(_) => "Raft.AppendEntries",
            Request::InstallSnapshot(_) => "Raft.InstallSnapshot",
        }
    }
}

impl Reply {
    /// The replier's term.
    pub fn term(&self) -> Term {
        match self {
            Reply::RequestVote(r) => r.term,
            Reply::AppendEntries(r) => r.term,
            Reply::InstallSnapshot(r) => r.term,
        }
    }
}
