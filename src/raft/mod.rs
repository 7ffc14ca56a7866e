//! Raft (the lab's 3A-3D) as a pure state machine.
//!
//! A [`Raft`] node is a plain value. Its driver feeds it inputs and carries out the
//! [`Output`]s each input returns, in order:
//!
//! - [`Raft::handle_timer`] with [`Timer::Election`]: a follower or candidate that has
//!   heard nothing for a randomized election timeout becomes a candidate of
//!   `term + 1`, votes for itself and sends [`RequestVote`] to every peer.
//! - [`Raft::handle_request`]: a [`RequestVote`] is granted when the request's term is
//!   current, the node has not voted for someone else in it, and the candidate's log is
//!   at least as up-to-date (last term, then last index). An [`AppendEntries`] from the
//!   current leader resets the election timer, passes the consistency check on
//!   `prev_log_index`/`prev_log_term` (or answers with a conflict term and its first
//!   index, so the leader skips a whole term per round trip), merges the entries
//!   (truncating only at the first real conflict) and advances the commit index to
//!   `min(leader_commit, last index it vouched for)`. An [`InstallSnapshot`] replaces the
//!   log prefix and the service state.
//! - [`Raft::handle_reply`]: a candidate with a majority of votes becomes leader and
//!   sends AppendEntries at once; a leader tracks `next_index`/`match_index` per peer,
//!   backs up on a mismatch and retries at once, and commits the highest index of its
//!   own term held by a majority (Figure 8).
//! - [`Raft::handle_timer`] with [`Timer::Heartbeat`]: a leader sends AppendEntries to
//!   every peer, at most ten times a second.
//! - [`Raft::start`]: the leader appends a command and replicates it at once.
//! - [`Raft::snapshot_at`]: the service has snapshotted through an applied index; the log
//!   is compacted and the snapshot persisted with the Raft state.
//!
//! Committed commands and installed snapshots come out as [`Output::Apply`], in index
//! order, with no gaps or repeats, in the same step that commits them. Any step that
//! changes the term, vote or log starts with [`Output::Persist`]; a node restarts with
//! [`Raft::restore`] from exactly those bytes.

mod config;
mod core;
mod log;
mod message;
mod node;
mod output;
mod persist;
mod storage;

#[cfg(test)]
mod paper_tests;
#[cfg(test)]
mod tests;

pub use config::{Bug, Config, TimeRange, Timing};
pub use core::{RaftCore, RoleKind, log_symmetry_key};
pub use log::{Entry, Log};
pub use message::{
    AppendEntries, AppendOutcome, AppendReply, InstallSnapshot, Reply, Request, RequestVote,
    SnapshotReply, VoteReply,
};
pub use node::{Command, NotLeader, Raft, RaftError, Role, StartResult};
pub use output::{Apply, LogWrite, Output, Persist, Timer};
pub use persist::PersistentState;
pub use storage::Storage;

use serde::{Deserialize, Serialize};

/// A node's id: its position in the cluster, `0..peers`.
pub type NodeId = usize;
/// A Raft term.
pub type Term = u64;
/// A log index; the first entry has index 1.
pub type Index = u64;

/// A set of node ids (at most 64), used for votes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct NodeSet(u64);

impl NodeSet {
    /// Adds a node.
    pub fn insert(&mut self, id: NodeId) {
        if id < 64 {
            self.0 |= 1 << id;
        }
    }

    /// Whether the node is in the set.
    pub fn contains(&self, id: NodeId) -> bool {
        id < 64 && self.0 & (1 << id) != 0
    }

    /// The number of nodes in the set.
    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// Removes a node.
    pub fn remove(&mut self, id: NodeId) {
        if id < 64 {
            self.0 &= !(1 << id);
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The members, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..64).filter(move |&i| self.contains(i))
    }
}
